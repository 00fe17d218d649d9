package io.ftpgate.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.awaitility.core.ConditionTimeoutException;

import static org.awaitility.Awaitility.await;

/**
 * A server program started through {@link Topology#start} ({@link PureFtpdServer},
 * {@link ProftpdServer}): its process, where it serves, and the files it logs to.
 */
public record RunningFtpServer(String name, int port, Path root, Process process, List<Path> logs) implements FtpServerUnderTest {

    /** Returns this once {@link #port()} accepts connections in {@code ns}, within 10 s; fails at once if the server exits. */
    public RunningFtpServer awaitListening(Topology topology, String ns) {
        try {
            await(name + " listening on port " + port).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError(name + " exited with " + process.exitValue() + ": " + log());
                        }
                        return !topology.exec(ns, "ss", "-Hltn", "sport = :" + port).stdout().isBlank();
                    });
            return this;
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(name + " not listening on port " + port + " after 10 s: " + log()
                    + "\nlistening sockets in " + ns + ":\n" + topology.exec(ns, "ss", "-Hltnp").stdout(), e);
        }
    }

    /** Each log file that exists, under its name. */
    @Override
    public String log() {
        StringBuilder b = new StringBuilder();
        for (Path file : logs) {
            try {
                if (Files.exists(file)) {
                    b.append("== ").append(file.getFileName()).append('\n').append(Files.readString(file));
                }
            } catch (IOException e) {
                b.append("(").append(file).append(" unreadable: ").append(e).append(")\n");
            }
        }
        return b.toString();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }
}
