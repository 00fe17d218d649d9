package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * The shaded ftpgate jar (system property {@code ftpgate.jar}) running in the gateway namespace
 * with a generated HOCON config: four listeners, IPv4 and IPv6 straight through on port 21 and
 * the two cross-family combinations on port 2121, the iptables backend.
 */
public final class FtpGateDaemon {

    public static final FtpEndpoint V4 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, 21);
    public static final FtpEndpoint V6 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V6, 21);
    /** IPv6 client, IPv4 server. */
    public static final FtpEndpoint V6_TO_V4 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V6, 2121);
    /** IPv4 client, IPv6 server. */
    public static final FtpEndpoint V4_TO_V6 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, 2121);
    private static final List<FtpEndpoint> LISTENERS = List.of(V4, V6, V6_TO_V4, V4_TO_V6);

    private static final String READY_LINE = "ftpgate ready";

    private final Topology topology;
    private final Path log;
    private final Process process;

    private FtpGateDaemon(Topology topology, Path log, Process process) {
        this.topology = topology;
        this.log = log;
        this.process = process;
    }

    /** Starts ftpgate and returns once it says it is ready or every listener socket is bound. */
    public static FtpGateDaemon start(Topology topology) {
        return start(topology, List.of(Topology.JAVA, "-Xmx256m", "-XX:TieredStopAtLevel=1"), "");
    }

    /**
     * As {@link #start(Topology)}, launched with {@code launcher} (a JVM and its options, possibly
     * behind a wrapper such as {@code prlimit}) and with {@code extraConfig} (HOCON lines inside
     * the {@code ftpgate} block, overriding or adding to the generated ones).
     */
    public static FtpGateDaemon start(Topology topology, List<String> launcher, String extraConfig) {
        String jar = System.getProperty("ftpgate.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new AssertionError("system property ftpgate.jar must name the shaded jar (run with mvn verify), got " + jar);
        }
        String server4 = Topology.SERVER_V4 + ":" + VsftpdServer.PORT;
        String server6 = "[" + Topology.SERVER_V6 + "]:" + VsftpdServer.PORT;
        String config = String.join("\n",
                "ftpgate {",
                "  listeners {",
                "    v4    { listen = [\"" + V4.authority() + "\"],       upstream = \"" + server4 + "\" }",
                "    v6    { listen = [\"" + V6.authority() + "\"],       upstream = \"" + server6 + "\" }",
                "    v6to4 { listen = [\"" + V6_TO_V4.authority() + "\"], upstream = \"" + server4 + "\" }",
                "    v4to6 { listen = [\"" + V4_TO_V6.authority() + "\"], upstream = \"" + server6 + "\" }",
                "  }",
                "  firewall.backend = iptables",
                "  data.connect-timeout = 3s",
                "  shutdown.grace-period = 2s",
                extraConfig,
                "}",
                "");
        try {
            Path file = topology.workDir().resolve("ftpgate.conf");
            Files.writeString(file, config);
            Path log = topology.workDir().resolve("ftpgate.log");
            Files.deleteIfExists(log);
            Files.createFile(log);
            List<String> argv = new java.util.ArrayList<>(launcher);
            argv.addAll(List.of("-jar", jar, "--config", file.toString()));
            Process process = topology.start(topology.gateway, log, argv.toArray(String[]::new));
            FtpGateDaemon daemon = new FtpGateDaemon(topology, log, process);
            daemon.awaitReady();
            return daemon;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitReady() {
        await("ftpgate ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError("ftpgate exited with " + process.exitValue() + " before it was ready:\n" + log());
            }
            if (log().contains(READY_LINE)) {
                return true;
            }
            String sockets = topology.exec(topology.gateway, "ss", "-Hltn").stdout();
            return LISTENERS.stream().allMatch(l -> sockets.contains(l.authority() + " "));
        });
    }

    /** SIGTERM, as systemd would send it, and the exit code; fails if it does not stop within 15 s. */
    public int stop() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                throw new AssertionError("ftpgate still running 15 s after SIGTERM:\n" + log());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return process.exitValue();
    }

    /** The JVM's process id ({@code ip netns exec} and {@code prlimit} exec it in place). */
    public long pid() {
        return process.pid();
    }

    public void assertAlive() {
        if (!process.isAlive()) {
            throw new AssertionError("ftpgate exited with " + process.exitValue() + "; its log:\n" + log());
        }
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
