package io.ftpgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

/**
 * One gateway setup under measurement, in three namespaces of its own (client — gateway — vsftpd),
 * so the setups of one run can be measured in interleaved rounds:
 * <ul>
 *   <li>{@code direct}: the gateway only routes; the client talks to the server (the physical limit);
 *   <li>{@code conntrack-helper}: the gateway routes with FORWARD policy DROP and lets data
 *       connections through as the kernel FTP helper relates them, the helper assigned explicitly:
 *       <pre>
 *   iptables -t raw -A PREROUTING -i to-cli -p tcp --dport 21 -j CT --helper ftp
 *   iptables -P FORWARD DROP
 *   iptables -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
 *   iptables -A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
 *   iptables -A FORWARD -i to-cli -p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT</pre>
 *   <li>{@code ftpgate}: the gateway routes nothing, INPUT policy DROP, ftpgate (the shaded jar,
 *       explicit listener, iptables backend) relays, splicing data connections ({@code data.relay
 *       = splice}; the setup is not measured if ftpgate says it copies);
 *   <li>{@code ftpgate-copy}: the same with {@code data.relay = copy}.
 *   <li>{@code ftpgate-ipset}: {@code ftpgate} with {@code firewall.backend = ipset}.
 *   <li>{@code ftpgate-kernel}: the gateway routes with FORWARD policy DROP and no rule of its own
 *       there, INPUT policy DROP, ftpgate with {@code data.path = kernel}: passive data connections
 *       are forwarded by the kernel under ftpgate's per-connection NAT rules, the rest relayed.
 *   <li>{@code ftpgate-nft}: {@code ftpgate} on an nftables-only gateway (no iptables rule at all;
 *       {@link Topology#NFT_RULESET}: input and forward policies drop) with {@code firewall.backend =
 *       nftables}, its rule inserted at the top of {@code inet filter input}.
 *   <li>{@code ftpgate-kernel-nft}: {@code ftpgate-kernel} on that nftables-only gateway, routing,
 *       with the nftables backend: a lease is a DNAT and a SNAT map element, the rule inserted in
 *       {@code inet filter input} and {@code inet filter forward}.
 *   <li>{@code tcp-relay}: the gateway routes (as for {@code direct}) and runs HAProxy ({@link
 *       HaproxyRelay}), to which the client connects: it relays the control connection to vsftpd in
 *       {@code mode tcp}, while data connections go to vsftpd's passive port, routed. No FTP
 *       awareness, no lease, no data relay: its session rate is a ceiling for any user-space control
 *       relay on this machine. Only its session figures are measured (its transfers would be
 *       {@code direct}'s; vsftpd refuses a PORT for another address than the control peer's).
 * </ul>
 * A setup that cannot be built here (e.g. no FTP helper in this kernel) is kept with the reason.
 */
final class BenchSetup implements AutoCloseable {

    enum Kind implements Labelled {
        DIRECT("direct"), CONNTRACK_HELPER("conntrack-helper"), FTPGATE("ftpgate"), FTPGATE_COPY("ftpgate-copy"),
        FTPGATE_IPSET("ftpgate-ipset"), FTPGATE_KERNEL("ftpgate-kernel"), FTPGATE_NFT("ftpgate-nft"),
        FTPGATE_KERNEL_NFT("ftpgate-kernel-nft"), TCP_RELAY("tcp-relay");

        final String label;

        Kind(String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }

        boolean isFtpgate() {
            return this != DIRECT && this != CONNTRACK_HELPER && this != TCP_RELAY;
        }

        /** Whether only the session figures are measured here (no transfers, no FTPS, no leases). */
        boolean sessionsOnly() {
            return this == TCP_RELAY;
        }

        /** The firewall backend ftpgate runs with here; null for the setups without ftpgate. */
        String backend() {
            return switch (this) {
                case DIRECT, CONNTRACK_HELPER, TCP_RELAY -> null;
                case FTPGATE, FTPGATE_COPY, FTPGATE_KERNEL -> "iptables";
                case FTPGATE_IPSET -> "ipset";
                case FTPGATE_NFT, FTPGATE_KERNEL_NFT -> "nftables";
            };
        }

        /** Whether ftpgate runs with {@code data.path = kernel} here. */
        boolean kernelPath() {
            return this == FTPGATE_KERNEL || this == FTPGATE_KERNEL_NFT;
        }
    }

    /** ftpgate's listener in front of {@link ScaleFtpServer}, for the idle-session memory figure. */
    static final FtpEndpoint IDLE_LISTENER = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, 2100);
    static final int IDLE_SERVER_PORT = 2100;
    static final String RETR_FILE = "bench-retr.bin";
    /** The file each session downloads in the RETR-1MiB session figure. */
    static final String SESSION_FILE = "bench-session.bin";
    static final long SESSION_FILE_BYTES = 1024 * 1024;
    private static final Pattern SESSION_RESULT = Pattern.compile(
            "RESULT sessions=(\\d+) errors=(\\d+) elapsed_ms=([\\d.]+) p50_ms=([\\d.NaN]+) p99_ms=([\\d.NaN]+)");
    private static final AtomicInteger UPLOADS = new AtomicInteger();

    /**
     * One session-rate run: sessions per second, latency percentiles, failures.
     *
     * @param cpuMillisPerSession the relay process's CPU time (all threads) per completed session; NaN without one
     * @param runQueueWaitMillisPerSession how long the relay process's threads waited for a CPU while runnable
     *     ({@link CpuTime#runQueueWaitNanos(long)}) per completed session; NaN without a relay process
     */
    record SessionFigures(double perSecond, double p50Millis, double p99Millis, int errors, String firstError, String steps,
                          double cpuMillisPerSession, double runQueueWaitMillisPerSession) {
    }

    final Kind kind;
    final Topology topology;
    final VsftpdServer server;
    final FtpGateDaemon daemon;
    /** HAProxy of {@code tcp-relay}; null elsewhere. */
    private final Process haproxy;
    private double lastCpuSecondsPerGiB = Double.NaN;
    final FtpEndpoint endpoint;
    /** Why this setup is not measured; null if it is. */
    final String unavailable;

    private BenchSetup(Kind kind, Topology topology, VsftpdServer server, FtpGateDaemon daemon, Process haproxy,
                       String unavailable) {
        this.kind = kind;
        this.topology = topology;
        this.server = server;
        this.daemon = daemon;
        this.haproxy = haproxy;
        this.endpoint = kind.isFtpgate() ? FtpGateDaemon.V4
                : kind == Kind.TCP_RELAY ? HaproxyRelay.LISTEN : new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT);
        this.unavailable = unavailable;
    }

    /** Builds the setup with a {@code retrBytes} file to download; nothing is left behind on failure. */
    static BenchSetup start(Kind kind, BenchOptions options) {
        Topology topology = Topology.create(switch (kind) {
            case FTPGATE, FTPGATE_COPY, FTPGATE_IPSET -> Topology.Kind.GATEWAY;
            case FTPGATE_KERNEL -> Topology.Kind.FORWARDING_GATEWAY;
            case FTPGATE_NFT -> Topology.Kind.NFTABLES_GATEWAY;
            case FTPGATE_KERNEL_NFT -> Topology.Kind.NFTABLES_FORWARDING_GATEWAY;
            case DIRECT, CONNTRACK_HELPER, TCP_RELAY -> Topology.Kind.ROUTER;
        });
        try {
            // Session-rate runs open tens of thousands of connections; reuse TIME_WAIT ports for new ones.
            topology.exec(topology.client, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1").orThrow();
            topology.exec(topology.gateway, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1").orThrow();
            // Behind HAProxy vsftpd sees the control connection from the gateway, the data connection from the client.
            VsftpdServer server = kind == Kind.TCP_RELAY
                    ? VsftpdServer.start(topology, topology.server, "vsftpd", "hello from vsftpd\n", 20261124L, VsftpdServer.PORT,
                            List.of("pasv_promiscuous=YES"))
                    : VsftpdServer.start(topology);
            Path retr = server.root().resolve(RETR_FILE);
            ExecResult allocated = topology.exec(topology.server, "fallocate", "-l", String.valueOf(options.retrBytes()), retr.toString());
            if (!allocated.ok()) {
                topology.exec(topology.server, "dd", "if=/dev/zero", "of=" + retr, "bs=1M",
                        "count=" + options.retrBytes() / (1024 * 1024)).orThrow();
            }
            topology.exec(topology.server, "dd", "if=/dev/urandom", "of=" + server.root().resolve(SESSION_FILE), "bs=1M",
                    "count=" + SESSION_FILE_BYTES / (1024 * 1024), "status=none").orThrow();
            FtpGateDaemon daemon = null;
            Process haproxy = null;
            String unavailable = null;
            switch (kind) {
                case DIRECT -> { }
                case TCP_RELAY -> haproxy = HaproxyRelay.start(topology);
                case CONNTRACK_HELPER -> unavailable = installHelper(topology);
                case FTPGATE -> {
                    daemon = startFtpGate(topology, options, "iptables", "");
                    if (!daemon.log().contains("data relay splice")) {
                        unavailable = "ftpgate does not splice here (its log: "
                                + daemon.log().lines().filter(l -> l.contains("relay")).toList() + ")";
                    }
                }
                case FTPGATE_COPY -> daemon = startFtpGate(topology, options, "iptables", "  data.relay = copy");
                case FTPGATE_IPSET -> daemon = startFtpGate(topology, options, "ipset", "");
                case FTPGATE_KERNEL -> daemon = startFtpGate(topology, options, "iptables", "  data.path = kernel");
                case FTPGATE_NFT -> daemon = startFtpGate(topology, options, "nftables",
                        "  firewall.nftables.hook-chains = [\"inet filter input\"]");
                case FTPGATE_KERNEL_NFT -> daemon = startFtpGate(topology, options, "nftables", String.join("\n",
                        "  data.path = kernel",
                        "  firewall.nftables.hook-chains = [\"inet filter input\", \"inet filter forward\"]"));
            }
            BenchSetup setup = new BenchSetup(kind, topology, server, daemon, haproxy, unavailable);
            if (unavailable == null) {
                ExecResult check = setup.curl(Duration.ofSeconds(20), FtpMode.PASV, List.of("-o", "/dev/null"), "");
                if (!check.ok()) {
                    return setup.withUnavailable("a PASV listing failed: " + check.describe());
                }
            }
            return setup;
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    private BenchSetup withUnavailable(String reason) {
        return new BenchSetup(kind, topology, server, daemon, haproxy, reason);
    }

    /** The helper rules (see the class comment); a reason if the kernel refuses them. */
    private static String installHelper(Topology topology) {
        ExecResult raw = topology.exec(topology.gateway, "iptables", "-w", "-t", "raw", "-A", "PREROUTING", "-i", "to-cli",
                "-p", "tcp", "--dport", "21", "-j", "CT", "--helper", "ftp");
        if (!raw.ok()) {
            return "the kernel FTP helper cannot be assigned here (nf_conntrack_ftp not loadable?): " + raw.stderr().strip();
        }
        String gw = topology.gateway;
        topology.exec(gw, "iptables", "-w", "-P", "FORWARD", "DROP").orThrow();
        topology.exec(gw, "iptables", "-w", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT").orThrow();
        topology.exec(gw, "iptables", "-w", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "RELATED",
                "-m", "helper", "--helper", "ftp", "-j", "ACCEPT").orThrow();
        topology.exec(gw, "iptables", "-w", "-A", "FORWARD", "-i", "to-cli", "-p", "tcp", "--dport", "21",
                "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT").orThrow();
        return null;
    }

    /**
     * ftpgate with C2 (unlike the tests, which start it with C1 only), a session limit above the
     * idle sessions, and a listener in front of {@link ScaleFtpServer}. The JVM raises its open-files
     * limit to the hard limit by itself; {@link #maxIdleSessions()} says how far that goes.
     */
    private static FtpGateDaemon startFtpGate(Topology topology, BenchOptions options, String backend, String extra) {
        if (backend.equals("nftables")) {
            topology.nft("add rule inet filter input tcp dport " + IDLE_LISTENER.port() + " ct state new accept\n");
        } else {
            topology.exec(topology.gateway, "iptables", "-w", "-A", "INPUT", "-p", "tcp", "--dport",
                    String.valueOf(IDLE_LISTENER.port()), "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT").orThrow();
        }
        String config = String.join("\n",
                "  firewall.backend = " + backend,
                "  data.relay = splice",
                "  control.max-sessions = " + (options.idleSessions() + 1_000),
                "  listeners.idle { listen = [\"" + IDLE_LISTENER.authority() + "\"], upstream = \""
                        + Topology.SERVER_V4 + ":" + IDLE_SERVER_PORT + "\" }",
                extra);
        return FtpGateDaemon.start(topology, gatewayJvm(), config);
    }

    /**
     * How many idle sessions ftpgate can hold here: two sockets each within the hard open-files
     * limit it inherits (raising it needs CAP_SYS_RESOURCE, which a container may not grant),
     * less a margin for the JVM's own files.
     */
    static int maxIdleSessions() {
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/self/limits")).stream()
                    .filter(l -> l.startsWith("Max open files"))
                    .map(l -> l.substring("Max open files".length()).trim().split("\\s+")[1])
                    .map(hard -> hard.equals("unlimited") ? Integer.MAX_VALUE : (Integer.parseInt(hard) - 1_000) / 2)
                    .findFirst().orElse(Integer.MAX_VALUE);
        } catch (IOException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** Download speed of {@link #RETR_FILE} in MiB/s, as curl measured it. */
    double retrieveMiBps(FtpMode mode) {
        long before = gatewayCpuTicks();
        ExecResult result = curl(Duration.ofMinutes(5), mode, List.of("-o", "/dev/null", "-w", "%{speed_download} %{size_download}"),
                RETR_FILE);
        return mibPerSecond(result, before);
    }

    /** ftpgate's CPU seconds per GiB of the latest transfer; NaN for setups without ftpgate. */
    double lastCpuSecondsPerGiB() {
        return lastCpuSecondsPerGiB;
    }

    /**
     * The command that starts ftpgate's JVM: {@code java -Xmx512m}, or {@code java} and the
     * options in the environment variable {@code FTPGATE_BENCH_JVM} (space-separated), to compare
     * JVM settings (e.g. {@code -Xmx512m -XX:TieredStopAtLevel=1}).
     */
    static List<String> gatewayJvm() {
        String options = System.getenv("FTPGATE_BENCH_JVM");
        List<String> argv = new ArrayList<>(List.of(Topology.JAVA));
        argv.addAll(options == null || options.isBlank() ? List.of("-Xmx512m") : List.of(options.strip().split("\\s+")));
        return argv;
    }

    /** CPU ticks of ftpgate's JIT compiler threads so far; -1 for setups without ftpgate. */
    long gatewayCompilerTicks() {
        return daemon == null ? -1 : CpuTime.compilerTicks(daemon.pid());
    }

    private long gatewayCpuTicks() {
        return relayPid() < 0 ? -1 : CpuTime.ticks(relayPid());
    }

    /** The process that relays here (ftpgate's JVM or HAProxy); -1 where the gateway only routes. */
    long relayPid() {
        return daemon != null ? daemon.pid() : haproxy != null ? haproxy.pid() : -1;
    }

    /** What {@link #relayPid()} runs, as the session runs' log names it: ftpgate, haproxy, or null. */
    String relayName() {
        return daemon != null ? "ftpgate" : haproxy != null ? "haproxy" : null;
    }

    /** Upload speed of {@code local} in MiB/s, as curl measured it; the uploaded file is deleted. */
    double storeMiBps(FtpMode mode, Path local) {
        String name = "bench-" + UPLOADS.incrementAndGet() + ".bin";
        try {
            long before = gatewayCpuTicks();
            ExecResult result = curl(Duration.ofMinutes(5), mode, List.of("-T", local.toString(), "-w",
                    "%{speed_upload} %{size_upload}"), VsftpdServer.UPLOAD_DIR + "/" + name);
            return mibPerSecond(result, before);
        } finally {
            try {
                Files.deleteIfExists(server.uploadDir().resolve(name));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private ExecResult curl(Duration timeout, FtpMode mode, List<String> options, String path) {
        return curl(topology, endpoint, timeout, mode, options, path);
    }

    /** curl in the client namespace: {@code path} on {@code endpoint} in {@code mode}, with {@code options}. */
    static ExecResult curl(Topology topology, FtpEndpoint endpoint, Duration timeout, FtpMode mode, List<String> options,
                           String path) {
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--connect-timeout", "5",
                "--max-time", String.valueOf(timeout.toSeconds())));
        argv.addAll(Curl.modeArguments(endpoint, mode));
        argv.addAll(options);
        argv.add("ftp://" + endpoint.authority() + "/" + path);
        return topology.exec(topology.client, timeout.plusSeconds(10), argv.toArray(String[]::new));
    }

    /** curl's speed in MiB/s; notes ftpgate's CPU per GiB since {@code ticksBefore} (-1: no ftpgate). */
    private double mibPerSecond(ExecResult result, long ticksBefore) {
        lastCpuSecondsPerGiB = Double.NaN;
        if (!result.ok()) {
            throw new BenchFailure(result.describe());
        }
        String[] speedAndSize = result.stdout().strip().split("\\s+");
        double bytes = Double.parseDouble(speedAndSize[1]);
        if (ticksBefore >= 0 && bytes > 0) {
            lastCpuSecondsPerGiB = (double) (gatewayCpuTicks() - ticksBefore) / CpuTime.TICKS_PER_SECOND
                    / (bytes / (1024.0 * 1024 * 1024));
        }
        return Double.parseDouble(speedAndSize[0]) / (1024 * 1024);
    }

    /**
     * Complete sessions (login, PASV, LIST or, with {@code retr}, RETR of the 1 MiB {@link #SESSION_FILE},
     * QUIT) back to back with {@code concurrency} clients.
     */
    SessionFigures sessions(int concurrency, int seconds, boolean retr) {
        List<String> argv = new ArrayList<>(List.of(Topology.JAVA, "-Xmx256m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), SessionLoad.class.getName(), endpoint.host(),
                String.valueOf(endpoint.port()), Topology.CLIENT_V4, String.valueOf(seconds), String.valueOf(concurrency)));
        if (retr) {
            argv.addAll(List.of(SESSION_FILE, String.valueOf(SESSION_FILE_BYTES)));
        }
        long pid = relayPid();
        long ticksBefore = gatewayCpuTicks();
        Map<String, Long> waitBefore = pid < 0 ? Map.of() : CpuTime.runQueueWaitNanos(pid);
        ExecResult result = topology.exec(topology.client, Duration.ofSeconds(seconds + 60L), argv.toArray(String[]::new));
        long ticksAfter = gatewayCpuTicks();
        Map<String, Long> waitAfter = pid < 0 ? Map.of() : CpuTime.runQueueWaitNanos(pid);
        Matcher m = SESSION_RESULT.matcher(result.stdout());
        if (!result.ok() || !m.find()) {
            throw new BenchFailure(result.describe());
        }
        int sessions = Integer.parseInt(m.group(1));
        int errors = Integer.parseInt(m.group(2));
        String firstError = result.stdout().lines().filter(l -> l.startsWith("FIRST_ERROR ")).findFirst()
                .map(l -> l.substring("FIRST_ERROR ".length())).orElse(null);
        double elapsedSeconds = Double.parseDouble(m.group(3)) / 1000;
        String steps = result.stdout().lines().filter(l -> l.startsWith("STEPS ")).findFirst().orElse("STEPS none");
        double cpuMillis = ticksBefore < 0 || sessions == 0 ? Double.NaN
                : (ticksAfter - ticksBefore) * 1000.0 / CpuTime.TICKS_PER_SECOND / sessions;
        double waitMillis = pid < 0 || sessions == 0 ? Double.NaN
                : CpuTime.runQueueWaitNanos(waitBefore, waitAfter) / 1e6 / sessions;
        return new SessionFigures(sessions / elapsedSeconds, Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)),
                errors, firstError, steps, cpuMillis, waitMillis);
    }

    /** Lease open+close rate of one backend at one level of live leases. */
    record LeaseFigures(String backend, int live, int ops, double perSecond, double applyP50Millis, double applyP99Millis,
                        double revokeP50Millis, double revokeP99Millis, double batchedPerSecond) {
    }

    private static final Pattern LEASE_RESULT = Pattern.compile(
            "RESULT backend=(\\S+) live=(\\d+) ops=(\\d+) per_second=([\\d.]+) apply_p50_ms=([\\d.]+)"
                    + " apply_p99_ms=([\\d.]+) revoke_p50_ms=([\\d.]+) revoke_p99_ms=([\\d.]+) batched_per_second=([\\d.]+|NaN)");

    /**
     * Runs {@link LeaseChurn} for {@code backend} ({@code iptables}, {@code ipset}, {@code nftables} or
     * {@code nftables-kernel})
     * in the gateway namespace (next to ftpgate's own chains and sets, which it leaves alone).
     */
    List<LeaseFigures> leaseChurn(String backend, List<Integer> levels, int ops) {
        String joined = String.join(",", levels.stream().map(String::valueOf).toList());
        ExecResult result = topology.exec(topology.gateway, Duration.ofMinutes(5), Topology.JAVA, "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), LeaseChurn.class.getName(), backend, joined, String.valueOf(ops));
        List<LeaseFigures> figures = new ArrayList<>();
        Matcher m = LEASE_RESULT.matcher(result.stdout());
        while (m.find()) {
            figures.add(new LeaseFigures(m.group(1), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6)),
                    Double.parseDouble(m.group(7)), Double.parseDouble(m.group(8)), Double.parseDouble(m.group(9))));
        }
        if (!result.ok() || figures.size() != levels.size()) {
            throw new BenchFailure(result.describe());
        }
        return figures;
    }

    @Override
    public void close() {
        topology.close();
    }

    /** A measurement that did not produce a figure; the message says what the tool printed. */
    /** ftpgate's last warnings (a failed transfer says why there); empty for the other setups. */
    String gatewayComplaints() {
        return complaints(daemon);
    }

    /** {@code daemon}'s last warning or error as a parenthesis, or nothing (also for no daemon). */
    static String complaints(FtpGateDaemon daemon) {
        if (daemon == null) {
            return "";
        }
        List<String> warnings = daemon.log().lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
        return warnings.isEmpty() ? "" : " (ftpgate's last warning: " + warnings.get(warnings.size() - 1) + ")";
    }

    static final class BenchFailure extends RuntimeException {
        BenchFailure(String message) {
            super(message);
        }
    }
}
