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
 * with a generated HOCON config. {@link #start(Topology)}: four explicit listeners, IPv4 and IPv6
 * straight through on port 21 and the two cross-family combinations on port 2121, the iptables
 * backend. {@link #start(Topology, String)}: the settings a test writes itself.
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
    private final Path config;
    private final Path log;
    private final Process process;
    private final List<FtpEndpoint> listeners;

    private FtpGateDaemon(Topology topology, Path config, Path log, Process process, List<FtpEndpoint> listeners) {
        this.topology = topology;
        this.config = config;
        this.log = log;
        this.process = process;
        this.listeners = listeners;
    }

    /** Starts ftpgate with the four explicit listeners and returns once it is ready. */
    public static FtpGateDaemon start(Topology topology) {
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
                "}",
                "");
        return start(topology, writeConfig(topology, config), LISTENERS);
    }

    /**
     * Starts ftpgate with {@code settings} (HOCON, e.g. {@code ftpgate { ... }}) and returns once it
     * logs that it is ready.
     */
    public static FtpGateDaemon start(Topology topology, String settings) {
        return start(topology, writeConfig(topology, settings), List.of());
    }

    /** Writes {@code settings} to the config file in the topology's work dir and returns its path. */
    public static Path writeConfig(Topology topology, String settings) {
        try {
            return Files.writeString(topology.workDir().resolve("ftpgate.conf"), settings);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the jar once in the gateway namespace with {@code args} (e.g. --print-firewall), 30 s at most. */
    public static ExecResult run(Topology topology, String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(Topology.JAVA, "-XX:TieredStopAtLevel=1", "-jar", jar()));
        argv.addAll(List.of(args));
        return topology.exec(topology.gateway, argv.toArray(String[]::new));
    }

    private static String jar() {
        String jar = System.getProperty("ftpgate.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new AssertionError("system property ftpgate.jar must name the shaded jar (run with mvn verify), got " + jar);
        }
        return jar;
    }

    /** @param listeners bound sockets that also count as ready (empty: only the log line does) */
    private static FtpGateDaemon start(Topology topology, Path config, List<FtpEndpoint> listeners) {
        try {
            Path log = topology.workDir().resolve("ftpgate.log");
            Files.deleteIfExists(log);
            Files.createFile(log);
            Process process = topology.start(topology.gateway, log,
                    Topology.JAVA, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar(), "--config", config.toString());
            FtpGateDaemon daemon = new FtpGateDaemon(topology, config, log, process, listeners);
            daemon.awaitReady();
            return daemon;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The config file it was started with. */
    public Path config() {
        return config;
    }

    private void awaitReady() {
        await("ftpgate ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError("ftpgate exited with " + process.exitValue() + " before it was ready:\n" + log());
            }
            if (log().contains(READY_LINE)) {
                return true;
            }
            if (listeners.isEmpty()) {
                return false;
            }
            String sockets = topology.exec(topology.gateway, "ss", "-Hltn").stdout();
            return listeners.stream().allMatch(l -> sockets.contains(l.authority() + " "));
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

    public boolean isAlive() {
        return process.isAlive();
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
