package io.ftpgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.ftpgate.testing.FtpMode;

/**
 * The benchmark: {@code direct}, {@code conntrack-helper}, the ftpgate setups and {@code tcp-relay}
 * (see {@link BenchSetup}) built side by side and measured in interleaved rounds — RETR and STOR in PASV, EPSV
 * and PORT with curl, complete sessions per second with one and with sixteen clients ({@link
 * SessionLoad}) — then FTPS downloads and uploads end to end and through ftpgate with either TLS
 * provider ({@link FtpsTransfers}), then ftpgate's memory with idle sessions ({@link IdleSessionMemory}), the firewall
 * backends' lease rates ({@link LeaseChurn}), RETR with live leases ({@link LiveLeaseRetrieval}) and issue 12's
 * goals met or not ({@link Goals}). Prints the
 * tables and writes them, with date, machine and setup, to {@link BenchOptions#out()}. Nothing is
 * asserted: the figures depend on the machine; compare ratios within one run.
 *
 * <p>Needs root, {@code ip}, {@code iptables}, {@code vsftpd}, {@code curl}, {@code ss}, {@code
 * jcmd}, {@code prlimit}, and the shaded jar in system property {@code ftpgate.jar}. Run it with
 * {@code mvn -B -Pbench verify} (see the README, section Benchmarks).
 */
public final class Benchmark {

    /** The ipset backend is measured with this many times more leases per level: it is that much faster. */
    static final int IPSET_OPS_FACTOR = 40;
    /** The nftables backend likewise (about a quarter of ipset's rate). */
    static final int NFTABLES_OPS_FACTOR = 10;

    private Benchmark() {
    }

    public static void main(String[] args) {
        if (List.of(args).contains("--scale")) {
            scale(args);
            return;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
            String noPerf = options.sched() ? SchedDelays.unavailable() : null;
            if (noPerf != null) {
                throw new IllegalArgumentException("--sched needs perf: " + noPerf);
            }
        } catch (IllegalArgumentException e) {
            System.err.println("benchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println(run(options));
        System.out.println("written to " + options.out().toAbsolutePath());
    }

    /** {@code --scale}: only the scale of one gateway ({@link ScaleRun}), a report of its own. */
    private static void scale(String[] args) {
        ScaleRun.Options options;
        try {
            options = ScaleRun.Options.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println("benchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println(ScaleRun.run(options));
        System.out.println("written to " + options.out().toAbsolutePath());
    }

    /** Runs everything, writes the report to {@code options.out()} and returns it. */
    public static String run(BenchOptions options) {
        Instant start = Instant.now();
        String machine = MachineInfo.describe();
        ResultTable<BenchSetup.Kind, Figure> table = ResultTable.plain();
        ResultTable<FtpsSetup.Kind, FtpsTransfers.Column> ftps = null;
        IdleSessionMemory.Figures idle = null;
        String idleFailure = null;
        List<BenchSetup.LeaseFigures> leases = List.of();
        String leaseFailure = null;
        List<LiveLeaseRetrieval.Figures> liveRetr = List.of();
        String liveRetrFailure = null;
        List<BenchSetup> setups = new ArrayList<>();
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("ftpgate-bench-");
            Path upload = scratch.resolve("upload.bin");
            allocate(upload, options.storBytes());
            for (BenchSetup.Kind kind : BenchSetup.Kind.values()) {
                if (!options.setups().contains(kind)) {
                    if (!options.ftpsOnly()) {
                        table.unavailable(kind, options.only() != null && !options.only().contains(kind) ? "not in --setups"
                                : "not part of --nft");
                    }
                    continue;
                }
                log("setting up " + kind.label);
                BenchSetup setup = BenchSetup.start(kind, options);
                setups.add(setup);
                if (setup.unavailable != null) {
                    table.unavailable(kind, setup.unavailable);
                    log(kind.label + " not measured: " + setup.unavailable);
                }
            }
            List<BenchSetup> measured = setups.stream().filter(s -> s.unavailable == null).toList();
            for (BenchSetup setup : measured) {
                if (setup.kind.isFtpgate() && options.jitWarmSeconds() > 0) {
                    String warmed = warmJit(setup, options);
                    log(setup.kind.label + ": " + warmed);
                    table.note(setup.kind.label + ": " + warmed);
                }
            }
            if (options.warmUp() && !measured.isEmpty()) {
                log("warm-up round (not recorded)");
                round(measured, options, upload, ResultTable.plain(), 0);
            }
            for (int r = 1; r <= (measured.isEmpty() ? 0 : options.rounds()); r++) {
                log("round " + r + " of " + options.rounds());
                round(measured, options, upload, table, r);
            }
            ftps = options.nftOnly() || options.sessionsOnly() ? null : FtpsTransfers.measure(options, scratch, Benchmark::log);
            BenchSetup ftpgate = setups.stream().filter(s -> s.kind == BenchSetup.Kind.FTPGATE && s.unavailable == null)
                    .findFirst().orElse(null);
            if (options.transfersOnly() || options.ftpsOnly() || options.sessionsOnly()) {
                idleFailure = options.ftpsOnly() ? "only FTPS transfers were measured (--ftps)"
                        : options.sessionsOnly() ? "only session rates were measured (--sessions)"
                        : "only transfers were measured (--transfers)";
                leaseFailure = idleFailure;
                liveRetrFailure = idleFailure;
            } else if (ftpgate != null) {
                int sessions = Math.min(options.idleSessions(), BenchSetup.maxIdleSessions());
                if (options.nftOnly()) {
                    idleFailure = "not part of --nft";
                } else {
                    if (sessions < options.idleSessions()) {
                        table.note("idle sessions capped at " + sessions + " instead of " + options.idleSessions()
                                + ": two sockets each must fit the hard open-files limit (/proc/self/limits)");
                    }
                    log("ftpgate memory with " + sessions + " idle sessions");
                    try {
                        idle = IdleSessionMemory.measure(ftpgate, sessions);
                    } catch (RuntimeException e) {
                        idleFailure = e.getMessage();
                    }
                }
                ftpgate.daemon.assertAlive();
                log("lease open+close rate with " + options.liveLeases() + " live leases");
                try {
                    List<BenchSetup.LeaseFigures> all = new ArrayList<>(
                            ftpgate.leaseChurn("iptables", options.liveLeases(), options.leaseOps()));
                    all.addAll(ftpgate.leaseChurn("ipset", options.liveLeases(), options.leaseOps() * IPSET_OPS_FACTOR));
                    all.addAll(ftpgate.leaseChurn("nftables", options.liveLeases(),
                            options.leaseOps() * NFTABLES_OPS_FACTOR));
                    all.addAll(ftpgate.leaseChurn("nftables-kernel", options.liveLeases(),
                            options.leaseOps() * NFTABLES_OPS_FACTOR));
                    leases = all;
                } catch (RuntimeException e) {
                    leaseFailure = e.getMessage();
                }
                List<BenchSetup> withLeases = setups.stream()
                        .filter(s -> s.unavailable == null && s.kind.isFtpgate() && s.kind != BenchSetup.Kind.FTPGATE_COPY)
                        .toList();
                liveRetr = LiveLeaseRetrieval.measure(withLeases, options.mostLiveLeases(), options.rounds(), Benchmark::log);
            } else {
                idleFailure = "ftpgate was not measured";
                leaseFailure = idleFailure;
                liveRetrFailure = idleFailure;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            setups.forEach(BenchSetup::close);
            deleteQuietly(scratch);
        }
        Duration took = Duration.between(start, Instant.now());
        String report = report(options, start, took, machine, table, idle, idleFailure)
                + (ftps == null ? options.nftOnly() ? "\nFTPS: not part of --nft\n"
                        : options.sessionsOnly() ? "\nFTPS: not measured (--sessions)\n" : "" : FtpsTransfers.report(options, ftps))
                + leaseReport(options, leases, leaseFailure)
                + LiveLeaseRetrieval.report(liveRetr, options.rounds(), liveRetrFailure)
                + Goals.report(table, leases, liveRetr);
        write(options.out(), report);
        return report;
    }

    /** Writes a report to {@code out}, making its folder. */
    static void write(Path out, String report) {
        try {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, report);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One round: every figure for every setup, the setups' order rotated per round. */
    private static void round(List<BenchSetup> measured, BenchOptions options, Path upload,
                              ResultTable<BenchSetup.Kind, Figure> table, int round) {
        List<BenchSetup> order = new ArrayList<>(measured);
        Collections.rotate(order, round);
        List<BenchSetup> transferring = order.stream().filter(s -> !s.kind.sessionsOnly()).toList();
        for (FtpMode mode : options.sessionsOnly() ? new FtpMode[0] : Figure.MODES) {
            for (BenchSetup setup : transferring) {
                record(table, setup, Figure.retrieve(mode), () -> setup.retrieveMiBps(mode));
                if (mode == FtpMode.PASV) {
                    table.add(setup.kind, Figure.RETR_CPU, setup.lastCpuSecondsPerGiB());
                }
            }
        }
        for (FtpMode mode : options.sessionsOnly() ? new FtpMode[0] : Figure.MODES) {
            for (BenchSetup setup : transferring) {
                record(table, setup, Figure.store(mode), () -> setup.storeMiBps(mode, upload));
                if (mode == FtpMode.PASV) {
                    table.add(setup.kind, Figure.STOR_CPU, setup.lastCpuSecondsPerGiB());
                }
            }
        }
        for (boolean retr : options.transfersOnly() ? new boolean[0] : new boolean[] {false, true}) {
            for (int concurrency : new int[] {1, options.concurrency()}) {
                for (BenchSetup setup : order) {
                    sessions(table, setup, concurrency, retr, options.sessionSeconds(), round,
                            options.sched() && round == 1 && !retr && concurrency > 1);
                }
            }
        }
    }

    /** A window of the JIT warm-up: one LIST and one RETR-1MiB session run of this many seconds each. */
    private static final int JIT_WINDOW_SECONDS = 5;
    /** The JIT counts as done when its compiler threads used less than this share of a window's time. */
    private static final double JIT_DONE_SHARE = 0.02;

    /**
     * Brings an ftpgate setup to the steady state of a gateway that has run a while: LIST and
     * RETR-1MiB sessions with the suite's concurrency, in windows of {@link #JIT_WINDOW_SECONDS} each,
     * until the JVM's JIT compiler threads used under {@link #JIT_DONE_SHARE} of a window's wall time,
     * or {@code --jit-warm} seconds passed. Until then the compilers take one of the two CPUs
     * (C2 spent 16 s of CPU in one minute of sessions, two minutes after the start) and each session
     * runs partly interpreted. Returns what it took, for the report.
     */
    private static String warmJit(BenchSetup setup, BenchOptions options) {
        long start = System.nanoTime();
        long limit = options.jitWarmSeconds() * 1_000_000_000L;
        int windows = 0;
        while (true) {
            long compiled = setup.gatewayCompilerTicks();
            long t0 = System.nanoTime();
            try {
                setup.sessions(options.concurrency(), JIT_WINDOW_SECONDS, false);
                setup.sessions(options.concurrency(), JIT_WINDOW_SECONDS, true);
            } catch (BenchSetup.BenchFailure e) {
                return "JIT warm-up failed after " + windows + " window(s): " + e.getMessage();
            }
            windows++;
            long now = System.nanoTime();
            double share = (double) (setup.gatewayCompilerTicks() - compiled) / CpuTime.TICKS_PER_SECOND / ((now - t0) / 1e9);
            double took = (now - start) / 1e9;
            if (share < JIT_DONE_SHARE || now - start >= limit) {
                return String.format(Locale.ROOT, "JIT warm-up %.0f s (%d windows of LIST and RETR-1MiB sessions ×%d), "
                        + "compiler threads %.1f%% of the last window%s", took, windows, options.concurrency(), share * 100,
                        share < JIT_DONE_SHARE ? "" : " (stopped at --jit-warm " + options.jitWarmSeconds() + " s)");
            }
            log(setup.kind.label + String.format(Locale.ROOT, ": JIT warm-up window %d, compiler threads %.1f%%", windows,
                    share * 100));
        }
    }

    /** One session-rate run (LIST, or with {@code retr} RETR of 1 MiB) of one setup, into the table. */
    private static void sessions(ResultTable<BenchSetup.Kind, Figure> table, BenchSetup setup, int concurrency, boolean retr,
                                 int seconds, int round, boolean sched) {
        String what = (retr ? "RETR-1MiB sessions ×" : "sessions ×") + concurrency;
        BenchSetup.SessionFigures figures;
        SchedDelays.Recording recording = sched ? SchedDelays.start(Path.of("target", "bench", "sched.data")) : null;
        try {
            figures = setup.sessions(concurrency, seconds, retr);
        } catch (BenchSetup.BenchFailure e) {
            table.note(setup.kind.label + " " + what + " failed: " + e.getMessage());
            return;
        } finally {
            if (recording != null) {
                String line;
                try {
                    Map<String, SchedDelays.Delays> delays = recording.stop(setup.relayPid());
                    line = SchedDelays.GROUPS.stream().filter(delays::containsKey)
                            .map(g -> g + " " + delays.get(g).describe()).collect(java.util.stream.Collectors.joining("; "));
                } catch (RuntimeException e) {
                    line = "perf sched failed: " + e.getMessage();
                }
                log(setup.kind.label + " " + what + " run-queue delay per wake-up, ms (perf sched): " + line);
                table.note(setup.kind.label + ", " + what + " (LIST), round " + round
                        + ", run-queue delay per wake-up in ms (perf sched): " + line);
            }
        }
        String relay = setup.relayName();
        log(setup.kind.label + " " + what + ": " + figures.steps()
                + (relay == null ? "" : String.format(Locale.ROOT, " %s_cpu_ms_per_session=%.3f %s_runq_wait_ms_per_session=%.3f",
                relay, figures.cpuMillisPerSession(), relay, figures.runQueueWaitMillisPerSession())));
        boolean sequential = concurrency == 1;
        Figure rate = retr ? (sequential ? Figure.RETR_SESSIONS_SEQUENTIAL : Figure.RETR_SESSIONS_CONCURRENT)
                : (sequential ? Figure.SESSIONS_SEQUENTIAL : Figure.SESSIONS_CONCURRENT);
        Figure p50 = retr ? (sequential ? Figure.RETR_P50_SEQUENTIAL : Figure.RETR_P50_CONCURRENT)
                : (sequential ? Figure.P50_SEQUENTIAL : Figure.P50_CONCURRENT);
        Figure p99 = retr ? (sequential ? Figure.RETR_P99_SEQUENTIAL : Figure.RETR_P99_CONCURRENT)
                : (sequential ? Figure.P99_SEQUENTIAL : Figure.P99_CONCURRENT);
        table.add(setup.kind, rate, figures.perSecond());
        table.add(setup.kind, p50, figures.p50Millis());
        table.add(setup.kind, p99, figures.p99Millis());
        if (!retr && !sequential && relay != null) {
            table.add(setup.kind, Figure.SESSION_CPU, figures.cpuMillisPerSession());
            table.add(setup.kind, Figure.SESSION_RUN_QUEUE, figures.runQueueWaitMillisPerSession());
        }
        if (figures.errors() > 0) {
            table.note(setup.kind.label + " " + what + " round " + round + ": " + figures.errors()
                    + " failed sessions, first: " + figures.firstError());
        }
    }

    private interface Measurement {
        double run();
    }

    private static void record(ResultTable<BenchSetup.Kind, Figure> table, BenchSetup setup, Figure figure, Measurement measurement) {
        try {
            table.add(setup.kind, figure, measurement.run());
        } catch (BenchSetup.BenchFailure e) {
            table.note(setup.kind.label + " " + figure.label + " failed" + setup.gatewayComplaints() + ": " + e.getMessage());
        }
    }

    private static String report(BenchOptions options, Instant start, Duration took, String machine,
            ResultTable<BenchSetup.Kind, Figure> table,
            IdleSessionMemory.Figures idle, String idleFailure) {
        StringBuilder out = new StringBuilder();
        out.append("## ftpgate benchmark, ").append(options.mode()).append(" mode, ")
                .append(start.truncatedTo(ChronoUnit.SECONDS)).append('\n').append('\n');
        out.append(machine);
        out.append(String.format(Locale.ROOT,
                "- run: %d round(s)%s, %sFTPS %s, %s; took %d s%n",
                options.rounds(), options.warmUp() && !options.ftpsOnly() ? " after one warm-up round" : "",
                options.ftpsOnly() ? "" : "RETR " + size(options.retrBytes()) + ", STOR " + size(options.storBytes()) + ", ",
                options.nftOnly() ? "none" : size(options.ftpsBytes()),
                options.ftpsOnly() ? "FTPS transfers only (--ftps)" : options.transfersOnly() ? "transfers only (--transfers)"
                        : options.nftOnly() ? String.format(Locale.ROOT, "session runs of %d s, backends and kernel path only"
                                + " (--nft)", options.sessionSeconds())
                        : options.sessionsOnly() ? String.format(Locale.ROOT, "session runs of %d s only (--sessions)",
                                options.sessionSeconds())
                        : String.format(Locale.ROOT, "session runs of %d s, %d idle sessions", options.sessionSeconds(),
                                options.idleSessions()),
                took.toSeconds()));
        if (options.ftpsOnly()) {
            return out.append("- setups and clients: see the FTPS section\n\nPlain FTP: not measured (--ftps)\n").toString();
        }
        out.append("- setups: client 198.51.100.2 → gateway → vsftpd 203.0.113.2, IPv4, each setup in namespaces of its own;"
                + " `direct` routes, `conntrack-helper` routes with FORWARD DROP and the kernel FTP helper"
                + " (`CT --helper ftp`, RELATED via `-m helper`), `ftpgate` is the shaded jar (explicit listener,"
                + " iptables backend, INPUT DROP, no routing) started with `"
                + String.join(" ", BenchSetup.gatewayJvm().subList(1, BenchSetup.gatewayJvm().size())) + "`, splicing data connections"
                + " (`data.relay = splice`); `ftpgate-copy` the same with `data.relay = copy`, `ftpgate-ipset` the same"
                + " with the ipset backend; `ftpgate-kernel` is `ftpgate` with"
                + " `data.path = kernel` on a gateway that routes with FORWARD DROP (passive data connections forwarded by"
                + " the kernel under ftpgate's per-connection NAT rules, PORT relayed); `ftpgate-nft` is `ftpgate` with the"
                + " nftables backend on an nftables-only gateway (input and forward policies drop, ftpgate's rule inserted"
                + " in `inet filter input`), `ftpgate-kernel-nft` is `ftpgate-kernel` there with the nftables backend (a"
                + " lease is a DNAT and a SNAT map element; its rule also in `inet filter forward`); `tcp-relay` routes"
                + " like `direct` and the client connects to HAProxy on the gateway (`mode tcp`, `nbthread 2`, no logging,"
                + " `option tcp-smart-accept`, `tcp-smart-connect`), which relays the control connection to vsftpd;"
                + " data connections go to vsftpd's passive port, routed (session figures only: the ceiling of a user-space"
                + " control relay here)"
                + (options.transfersOnly() ? "; --transfers: RETR and STOR only" : "") + "\n");
        out.append("- clients: curl (`-w %{speed_download}` / `%{speed_upload}`) for transfers; a Java driver for"
                + " sessions (login, PASV, LIST or RETR of 1 MiB read to the end, QUIT)\n\n");
        out.append(table.markdown());
        out.append("\nftpgate memory (RSS = VmRSS; heap = used after `jcmd GC.run`):\n\n");
        if (idle == null) {
            out.append("- not measured: ").append(idleFailure == null ? "unknown" : idleFailure.strip().replaceAll("\\s+", " "))
                    .append('\n');
        } else {
            out.append("| idle sessions | RSS MiB | heap MiB |\n|---:|---:|---:|\n");
            out.append(String.format(Locale.ROOT, "| 0 | %.1f | %.1f |%n", idle.rssBefore(), idle.heapBefore()));
            out.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f |%n", idle.sessions(), idle.rssIdle(), idle.heapIdle()));
            out.append(String.format(Locale.ROOT, "%nper idle session: %.1f KiB RSS, %.1f KiB heap%n",
                    idle.rssKibPerSession(), idle.heapKibPerSession()));
        }
        return out.toString();
    }

    private static String leaseReport(BenchOptions options, List<BenchSetup.LeaseFigures> leases, String failure) {
        StringBuilder out = new StringBuilder();
        out.append("\nLease open+close rate of the firewall backends (`IptablesFirewall`, `IpsetFirewall`, `NftFirewall`")
                .append(" in the gateway namespace, chains, sets and tables of their own filled to each level, then ")
                .append(options.leaseOps()).append(" (iptables), ").append(options.leaseOps() * IPSET_OPS_FACTOR)
                .append(" (ipset) or ").append(options.leaseOps() * NFTABLES_OPS_FACTOR)
                .append(" (nftables, and nftables-kernel: the kernel path's DNAT and SNAT map elements) leases applied and")
                .append(" revoked one after the other at each level; batched: the same leases ").append(LeaseChurn.BATCH)
                .append(" per transaction, as queued changes are made; forward leases have no batched form):\n\n");
        if (failure != null) {
            return out.append("- not measured: ").append(failure.strip().replaceAll("\\s+", " ")).append('\n').toString();
        }
        out.append("| backend | live leases | open+close per s | apply p50 ms | apply p99 ms | revoke p50 ms | revoke p99 ms"
                        + " | batched open+close per s |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (BenchSetup.LeaseFigures f : leases) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.3f | %.3f | %.3f | %.3f | %s |%n", f.backend(), f.live(),
                    f.perSecond(), f.applyP50Millis(), f.applyP99Millis(), f.revokeP50Millis(), f.revokeP99Millis(),
                    Double.isNaN(f.batchedPerSecond()) ? "—" : String.format(Locale.ROOT, "%.0f", f.batchedPerSecond())));
        }
        return out.toString();
    }

    static String size(long bytes) {
        long mib = bytes / (1024 * 1024);
        return mib % 1024 == 0 ? mib / 1024 + " GiB" : mib + " MiB";
    }

    private static void allocate(Path file, long bytes) throws IOException {
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover temp dir is harmless
        }
    }

    private static void log(String line) {
        System.out.println("[bench " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + line);
    }
}
