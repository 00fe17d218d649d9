package io.ftpgate.testing;

import java.util.List;

/** What a finished command left behind; {@link #orThrow()} turns a failure into a readable error. */
public record ExecResult(List<String> argv, int exitCode, String stdout, String stderr) {

    /** Exit code used when the command did not finish within its timeout (it was killed). */
    public static final int TIMED_OUT = -1;

    public boolean ok() {
        return exitCode == 0;
    }

    public ExecResult orThrow() {
        if (!ok()) {
            throw new AssertionError(describe());
        }
        return this;
    }

    /** Command, exit code and both outputs, for assertion messages. */
    public String describe() {
        return String.join(" ", argv) + "\n  exit " + (exitCode == TIMED_OUT ? "(timed out, killed)" : exitCode)
                + "\n  stdout: " + stdout.strip().replace("\n", "\n          ")
                + "\n  stderr: " + stderr.strip().replace("\n", "\n          ");
    }
}
