package io.ftpgate.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;

/**
 * A real FTP server running in a namespace of a {@link Topology}, serving anonymous users a root
 * with {@link VsftpdServer#SMALL}, {@link VsftpdServer#BIG} and a writable
 * {@link VsftpdServer#UPLOAD_DIR}, passive and active mode, IPv4 and IPv6 on {@link #port()}.
 */
public interface FtpServerUnderTest {

    /** The program, e.g. {@code vsftpd}. */
    String name();

    int port();

    /** The anonymous root as seen from the test (the file system is shared by all namespaces). */
    Path root();

    default Path uploadDir() {
        return root().resolve(VsftpdServer.UPLOAD_DIR);
    }

    /** The server's own output and logs, for failure messages. */
    String log();

    boolean isAlive();

    /** Waits up to 10 s until {@code port} accepts connections in {@code ns}; fails at once if the server exits. */
    static void awaitListening(Topology topology, String ns, int port, Process process, String name, Supplier<String> log) {
        try {
            await(name + " listening on port " + port).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError(name + " exited with " + process.exitValue() + ": " + log.get());
                        }
                        return !topology.exec(ns, "ss", "-Hltn", "sport = :" + port).stdout().isBlank();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(name + " not listening on port " + port + " after 10 s: " + log.get()
                    + "\nlistening sockets in " + ns + ":\n" + topology.exec(ns, "ss", "-Hltnp").stdout()
                    + "\nprocess " + process.pid() + " " + process.info() + " " + process.descendants().map(ProcessHandle::info).toList(), e);
        }
    }

    /** The contents of {@code files} that exist, each under its name, for failure messages. */
    static String read(Path... files) {
        StringBuilder b = new StringBuilder();
        for (Path file : files) {
            try {
                if (java.nio.file.Files.exists(file)) {
                    b.append("== ").append(file.getFileName()).append('\n').append(java.nio.file.Files.readString(file));
                }
            } catch (java.io.IOException e) {
                b.append("(").append(file).append(" unreadable: ").append(e).append(")\n");
            }
        }
        return b.toString();
    }
}
