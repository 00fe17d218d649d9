package io.ftpgate.testing;

import java.nio.file.Path;

/**
 * What a server helper ({@link VsftpdServer}) needs from a set of test namespaces, whether the
 * fixed three-host {@link Topology} or a recipe's {@link NetnsLab}: a scratch directory, a way to
 * start a long-running process in a namespace (stopped when the set is closed), and a way to run a
 * command there.
 */
public interface NamespaceHosts {

    /** Scratch directory (configs, files, logs), removed when the namespaces are. */
    Path workDir();

    /** Starts a long-running process in {@code ns}, stdout and stderr appended to {@code log}. */
    Process start(String ns, Path log, String... argv);

    /** Runs {@code argv} in {@code ns} and waits for it, whatever its exit. */
    ExecResult tryExec(String ns, String... argv);
}
