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
 * the two cross-family combinations on port 2121, the iptables backend; or, with
 * {@link #start(Topology, String)}, the settings a test writes itself.
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
    private final Path configFile;
    private final Path log;
    private final Process process;
    private final List<FtpEndpoint> listeners;

    private FtpGateDaemon(Topology topology, Path configFile, Path log, Process process, List<FtpEndpoint> listeners) {
        this.topology = topology;
        this.configFile = configFile;
        this.log = log;
        this.process = process;
        this.listeners = listeners;
    }

    /** Starts ftpgate and returns once it says it is ready or every listener socket is bound. */
    public static FtpGateDaemon start(Topology topology) {
        return start(topology, List.of());
    }

    /**
     * Starts ftpgate as user nobody holding only CAP_NET_ADMIN (for iptables) and
     * CAP_NET_BIND_SERVICE (for port 21) as ambient capabilities, as a hardened systemd unit would
     * ({@code User=}, {@code AmbientCapabilities=}); iptables inherits them.
     */
    public static FtpGateDaemon startUnprivileged(Topology topology) {
        return startUnprivileged(topology, "", List.of());
    }

    /**
     * {@link #startUnprivileged(Topology)} with {@code extraConfig} (HOCON lines inside
     * {@code ftpgate { }}) and further capabilities, e.g. {@code net_raw} (as a drop-in adds them).
     */
    public static FtpGateDaemon startUnprivileged(Topology topology, String extraConfig, List<String> extraCaps) {
        String caps = "net_admin,+net_bind_service" + extraCaps.stream().map(c -> ",+" + c).reduce("", String::concat);
        return start(topology, List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all,+" + caps, "--ambient-caps=+" + caps),
                writeConfig(topology, config(extraConfig)), true);
    }

    /**
     * Runs the jar as {@link #startUnprivileged(Topology, String, List)} would, expecting it to fail
     * at start, and returns its exit code and output.
     */
    public static ExecResult runUnprivileged(Topology topology, String extraConfig, List<String> extraCaps) {
        String caps = "net_admin,+net_bind_service" + extraCaps.stream().map(c -> ",+" + c).reduce("", String::concat);
        Path file = writeConfig(topology, config(extraConfig));
        return topology.exec(topology.gateway, Duration.ofSeconds(60), "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all,+" + caps, "--ambient-caps=+" + caps,
                Topology.JAVA, "-XX:TieredStopAtLevel=1", "-jar", jar(), "--config", file.toString());
    }

    private static FtpGateDaemon start(Topology topology, List<String> launcher) {
        return start(topology, launcher, writeConfig(topology, config("")), true);
    }

    /**
     * Starts ftpgate (as root) with {@code settings} (HOCON, {@code ftpgate { ... }}) and returns once
     * it logs that it is ready.
     */
    public static FtpGateDaemon start(Topology topology, String settings) {
        // -Dftpgate.it.log-level=DEBUG: the daemon's FTPGATE_LOG_LEVEL, for a closer look at a failure.
        String level = System.getProperty("ftpgate.it.log-level");
        List<String> launcher = level == null ? List.of() : List.of("env", "FTPGATE_LOG_LEVEL=" + level);
        return start(topology, launcher, writeConfig(topology, settings), false);
    }

    /** Writes {@code settings} to the config file in the topology's work dir and returns its path. */
    public static Path writeConfig(Topology topology, String settings) {
        try {
            return Files.writeString(topology.workDir().resolve("ftpgate.conf"), settings);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code java -jar ftpgate.jar ARGS} to completion in the gateway namespace, e.g. {@code --print-firewall}. */
    public static ExecResult run(Topology topology, String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(Topology.JAVA, "-XX:TieredStopAtLevel=1", "-jar", jar()));
        argv.addAll(List.of(args));
        return topology.exec(topology.gateway, argv.toArray(String[]::new));
    }

    /** @param defaultListeners whether the four listeners' bound sockets also count as ready */
    private static FtpGateDaemon start(Topology topology, List<String> launcher, Path file, boolean defaultListeners) {
        String jar = jar();
        try {
            Path log = topology.workDir().resolve("ftpgate-" + System.nanoTime() + ".log");
            Files.createFile(log);
            List<String> argv = new java.util.ArrayList<>(launcher);
            argv.addAll(List.of(Topology.JAVA, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar, "--config", file.toString()));
            Process process = topology.start(topology.gateway, log, argv.toArray(String[]::new));
            FtpGateDaemon daemon = new FtpGateDaemon(topology, file, log, process, defaultListeners ? LISTENERS : List.of());
            daemon.awaitReady();
            return daemon;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code java -jar ftpgate.jar --config FILE ARGS} with this daemon's config file to
     * completion in the gateway namespace, e.g. {@code --cleanup-firewall}.
     */
    public ExecResult runOnce(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("--config", configFile.toString()));
        argv.addAll(List.of(args));
        return run(topology, argv.toArray(String[]::new));
    }

    /**
     * Starts ftpgate launched with {@code launcher} (a JVM and its options, possibly behind a
     * wrapper such as {@code prlimit}) and {@code extraConfig} (HOCON lines inside the
     * {@code ftpgate} block of the test configuration); for the benchmark.
     */
    public static FtpGateDaemon start(Topology topology, List<String> launcher, String extraConfig) {
        Path file = writeConfig(topology, config(extraConfig));
        try {
            Path log = topology.workDir().resolve("ftpgate-" + System.nanoTime() + ".log");
            Files.createFile(log);
            List<String> argv = new java.util.ArrayList<>(launcher);
            argv.addAll(List.of("-jar", jar(), "--config", file.toString()));
            Process process = topology.start(topology.gateway, log, argv.toArray(String[]::new));
            FtpGateDaemon daemon = new FtpGateDaemon(topology, file, log, process, LISTENERS);
            daemon.awaitReady();
            return daemon;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String jar() {
        String jar = System.getProperty("ftpgate.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new AssertionError("system property ftpgate.jar must name the shaded jar (run with mvn verify), got " + jar);
        }
        return jar;
    }

    /** The test configuration, with {@code extra} HOCON lines inside {@code ftpgate { }}. */
    public static String config(String extra) {
        String server4 = Topology.SERVER_V4 + ":" + VsftpdServer.PORT;
        String server6 = "[" + Topology.SERVER_V6 + "]:" + VsftpdServer.PORT;
        return String.join("\n",
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
                extra,
                "}",
                "");
    }

    /** Replaces the config file and sends SIGHUP, as {@code systemctl reload} would. */
    public void reload(String newConfig) {
        try {
            Files.writeString(configFile, newConfig);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // The shell's built-in kill: no dependency on procps.
        topology.exec(topology.gateway, "sh", "-c", "kill -HUP \"$0\"", String.valueOf(process.pid())).orThrow();
    }

    /** Sends a signal by name ({@code USR1}) with the shell's built-in kill. */
    public void signal(String name) {
        topology.exec(topology.gateway, "sh", "-c", "kill -" + name + " \"$0\"", String.valueOf(process.pid())).orThrow();
    }

    /** Waits up to 10 s for a log line containing {@code text}. */
    public void awaitLog(String text) {
        await("ftpgate logs '" + text + "'").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> log().contains(text));
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

    /** SIGKILL: a crash, nothing cleaned up by ftpgate itself. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The user the daemon runs as, e.g. {@code nobody}. */
    public String user() {
        return process.info().user().orElse("(unknown)");
    }

    /** The config file it was started with. */
    public Path configFile() {
        return configFile;
    }

    public boolean isAlive() {
        return process.isAlive();
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
