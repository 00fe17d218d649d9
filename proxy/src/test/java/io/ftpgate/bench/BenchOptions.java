package io.ftpgate.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * How much the benchmark measures. {@code --full} (the default) takes about ten minutes, {@code
 * --short} under one; {@code --rounds N}, {@code --idle N} and {@code --seconds N} override one
 * figure of either, {@code --transfers} measures only the transfers (no sessions, memory or
 * leases), {@code --sessions} only the session rates, {@code --ftps} only the FTPS transfers ({@link FtpsSetup}), {@code --ftps-mib N} sets
 * their size, {@code --nft} only the backends and the kernel path (no FTPS, no idle-session memory,
 * no {@code ftpgate-copy}), {@code --setups A,B} only those setups, {@code --out FILE} says where the Markdown report goes.
 *
 * @param retrBytes size of the file downloaded
 * @param storBytes size of the file uploaded
 * @param sessionSeconds how long each session-rate run lasts
 * @param idleSessions idle control sessions held open for the memory figure
 * @param warmUp whether one unrecorded round of transfers and sessions precedes the rounds (JIT)
 * @param liveLeases levels of live leases at which the lease open+close rate is measured
 * @param leaseOps leases opened and closed at each level
 * @param transfersOnly whether only RETR and STOR are measured
 * @param ftpsBytes size of the file downloaded and uploaded over FTPS
 * @param ftpsOnly whether only the FTPS transfers are measured
 * @param nftOnly whether only the kernel-path and nftables comparison is measured ({@code --nft}): the setups
 *     {@link #nftSetups()}, their transfers and sessions, every backend's lease rate, and RETR with live leases
 * @param sessionsOnly whether only the session rates are measured (LIST and RETR-1MiB sessions)
 * @param jitWarmSeconds how long, at most, each ftpgate setup first runs sessions until its JIT compilers
 *     are done ({@code --jit-warm S}; 0: not at all), see {@link Benchmark}
 * @param sched whether each setup's first recorded run of sessions with {@code concurrency} clients (LIST) is
 *     also recorded with {@code perf sched} ({@code --sched}): how long the wake-ups of the server, the kernel's
 *     softirq threads, the clients and the relay waited for a CPU ({@link SchedDelays})
 * @param only the setups measured ({@code --setups direct,conntrack-helper,ftpgate-ipset}); null: all of the mode's
 */
public record BenchOptions(String mode, int rounds, long retrBytes, long storBytes, int sessionSeconds,
                           int concurrency, int idleSessions, boolean warmUp, List<Integer> liveLeases, int leaseOps,
                           Path out, boolean transfersOnly, long ftpsBytes, boolean ftpsOnly, boolean nftOnly,
                           boolean sessionsOnly, List<BenchSetup.Kind> only, int jitWarmSeconds, boolean sched) {

    private static final long MIB = 1024 * 1024;
    private static final String USAGE = "--full | --short, then --rounds N, --idle N, --seconds N, --transfers, --sessions, --ftps, --ftps-mib N, --nft,"
            + " --setups A,B,..., --jit-warm S, --sched, --out FILE";

    public static BenchOptions full(Path out) {
        return new BenchOptions("full", 5, 1024 * MIB, 100 * MIB, 5, 16, 10_000, true, List.of(0, 1_000, 10_000), 50, out, false,
                256 * MIB, false, false, false, null, 180, false);
    }

    public static BenchOptions shortRun(Path out) {
        return new BenchOptions("short", 3, 64 * MIB, 16 * MIB, 1, 16, 500, false, List.of(0, 1_000), 10, out, false, 16 * MIB, false, false, false, null, 0, false);
    }

    public static BenchOptions parse(String... args) {
        Builder b = new Builder(full(Path.of("target", "bench", "results.md")));
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ((arg.equals("--full") || arg.equals("--short")) && i > 0) {
                throw new IllegalArgumentException(arg + " must come first (" + USAGE + ")");
            }
            switch (arg) {
                case "--full" -> b = new Builder(full(b.out));
                case "--short" -> b = new Builder(shortRun(b.out));
                case "--rounds" -> b.rounds = positive(arg, args, ++i);
                case "--idle" -> b.idleSessions = positive(arg, args, ++i);
                case "--seconds" -> b.sessionSeconds = positive(arg, args, ++i);
                case "--out" -> b.out = Path.of(value(arg, args, ++i));
                case "--transfers" -> b.transfersOnly = true;
                case "--ftps" -> b.ftpsOnly = true;
                case "--ftps-mib" -> b.ftpsBytes = positive(arg, args, ++i) * MIB;
                case "--nft" -> b.nftOnly = true;
                case "--sessions" -> b.sessionsOnly = true;
                case "--setups" -> b.only = kinds(value(arg, args, ++i));
                case "--jit-warm" -> b.jitWarmSeconds = Integer.parseInt(value(arg, args, ++i));
                case "--sched" -> b.sched = true;
                default -> throw new IllegalArgumentException("unknown argument " + arg + " (" + USAGE + ")");
            }
        }
        return b.build();
    }

    /** The options while the command line is read: one field per option, so each option sets only its own. */
    private static final class Builder {
        private final BenchOptions mode;
        private int rounds;
        private int sessionSeconds;
        private int idleSessions;
        private Path out;
        private boolean transfersOnly;
        private long ftpsBytes;
        private boolean ftpsOnly;
        private boolean nftOnly;
        private boolean sessionsOnly;
        private List<BenchSetup.Kind> only;
        private int jitWarmSeconds;
        private boolean sched;

        Builder(BenchOptions mode) {
            this.mode = mode;
            rounds = mode.rounds;
            sessionSeconds = mode.sessionSeconds;
            idleSessions = mode.idleSessions;
            out = mode.out;
            transfersOnly = mode.transfersOnly;
            ftpsBytes = mode.ftpsBytes;
            ftpsOnly = mode.ftpsOnly;
            nftOnly = mode.nftOnly;
            sessionsOnly = mode.sessionsOnly;
            only = mode.only;
            jitWarmSeconds = mode.jitWarmSeconds;
            sched = mode.sched;
        }

        BenchOptions build() {
            return new BenchOptions(mode.mode, rounds, mode.retrBytes, mode.storBytes, sessionSeconds, mode.concurrency,
                    idleSessions, mode.warmUp, mode.liveLeases, mode.leaseOps, out, transfersOnly, ftpsBytes, ftpsOnly,
                    nftOnly, sessionsOnly, only, jitWarmSeconds, sched);
        }
    }

    /**
     * The setups measured: with {@code --nft} all but {@code ftpgate-copy} (it differs from {@code ftpgate} in the relay only)
     * and {@code tcp-relay} (no firewall of its own).
     */
    List<BenchSetup.Kind> setups() {
        if (ftpsOnly) {
            return List.of();
        }
        List<BenchSetup.Kind> mode = nftOnly ? nftSetups() : List.of(BenchSetup.Kind.values());
        return only == null ? mode : mode.stream().filter(only::contains).toList();
    }

    /** Setups by label, comma-separated ({@code --setups}). */
    private static List<BenchSetup.Kind> kinds(String labels) {
        List<BenchSetup.Kind> kinds = new java.util.ArrayList<>();
        for (String label : labels.split(",")) {
            kinds.add(java.util.Arrays.stream(BenchSetup.Kind.values()).filter(k -> k.label.equals(label.strip())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--setups: no setup " + label + " (setups: "
                            + java.util.Arrays.stream(BenchSetup.Kind.values()).map(k -> k.label).toList() + ")")));
        }
        return List.copyOf(kinds);
    }

    static List<BenchSetup.Kind> nftSetups() {
        return java.util.Arrays.stream(BenchSetup.Kind.values())
                .filter(k -> k != BenchSetup.Kind.FTPGATE_COPY && k != BenchSetup.Kind.TCP_RELAY).toList();
    }

    /** The most live leases of {@link #liveLeases()}: the level of the RETR-with-live-leases figure. */
    int mostLiveLeases() {
        return liveLeases.get(liveLeases.size() - 1);
    }

    private static String value(String name, String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i];
    }

    private static int positive(String name, String[] args, int i) {
        int n = Integer.parseInt(value(name, args, i));
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, not " + n);
        }
        return n;
    }
}
