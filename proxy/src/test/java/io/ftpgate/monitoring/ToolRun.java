package io.ftpgate.monitoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One run of an external tool (promtool, curl) to its end: exit code and output (stdout and
 * stderr together, in the order written). A tool that overruns its timeout is killed and fails the test.
 */
record ToolRun(List<String> command, int exitCode, String output) {

    static ToolRun runWithInput(Duration timeout, Path workDir, String stdin, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("ftpgate-tool-", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile());
            if (stdin == null) {
                pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process p = pb.start();
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + ": no end after " + timeout);
            }
            return new ToolRun(List.of(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static ToolRun run(Duration timeout, Path workDir, String... command) throws IOException, InterruptedException {
        return runWithInput(timeout, workDir, null, command);
    }

    @Override
    public String toString() {
        return String.join(" ", command) + " -> exit " + exitCode + "\n" + output;
    }

    /** The repository's {@code grafana/} folder, found upwards from the working directory (failsafe runs in {@code proxy/}). */
    static Path grafanaDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("grafana/ftpgate-alerts.yml"))) {
                return dir.resolve("grafana");
            }
        }
        throw new AssertionError("no grafana/ftpgate-alerts.yml above " + Path.of("").toAbsolutePath());
    }
}
