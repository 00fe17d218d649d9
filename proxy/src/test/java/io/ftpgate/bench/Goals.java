package io.ftpgate.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The goals of issue 12 (the kernel path on nftables maps), each checked against the figures of
 * the run: kernel-path RETR at least 0.95× plain routing (PASV and EPSV; PORT is relayed on the
 * kernel path); sessions per second with the kernel path at least 0.8× the conntrack helper, with
 * one client and with sixteen; lease open+close at least 20,000 per second and apply p99 under
 * 2 ms at the most live leases measured; RETR with those live leases at least 0.95× without. A
 * figure that was not measured is "not measured", never met.
 */
final class Goals {

    static final double KERNEL_RETR = 0.95;
    static final double KERNEL_SESSIONS = 0.8;
    static final double LEASE_RATE = 20_000;
    static final double LEASE_P99_MS = 2;
    static final double LIVE_RETR = 0.95;

    private Goals() {
    }

    static String report(ResultTable<BenchSetup.Kind, Figure> table, List<BenchSetup.LeaseFigures> leases,
                         List<LiveLeaseRetrieval.Figures> live) {
        List<String> rows = new ArrayList<>();
        for (BenchSetup.Kind kind : List.of(BenchSetup.Kind.FTPGATE_KERNEL, BenchSetup.Kind.FTPGATE_KERNEL_NFT)) {
            for (Figure figure : List.of(Figure.RETR_PASV, Figure.RETR_EPSV)) {
                double ratio = table.median(kind, figure) / table.median(BenchSetup.Kind.DIRECT, figure);
                rows.add(row(figure.label + " ≥ " + KERNEL_RETR + "× `direct`", kind.label, ratio, "%.2f×", ratio >= KERNEL_RETR));
            }
            for (Figure figure : List.of(Figure.SESSIONS_SEQUENTIAL, Figure.SESSIONS_CONCURRENT)) {
                double ratio = table.median(kind, figure) / table.median(BenchSetup.Kind.CONNTRACK_HELPER, figure);
                rows.add(row(figure.label + " ≥ " + KERNEL_SESSIONS + "× `conntrack-helper`", kind.label, ratio, "%.2f×",
                        ratio >= KERNEL_SESSIONS));
            }
        }
        int most = leases.stream().mapToInt(BenchSetup.LeaseFigures::live).max().orElse(0);
        for (BenchSetup.LeaseFigures f : leases) {
            if (f.live() != most) {
                continue;
            }
            String at = " at " + most + " live";
            rows.add(row("open+close ≥ " + (int) LEASE_RATE + "/s" + at + ", one at a time", f.backend(), f.perSecond(), "%.0f/s",
                    f.perSecond() >= LEASE_RATE));
            if (!Double.isNaN(f.batchedPerSecond())) {
                rows.add(row("open+close ≥ " + (int) LEASE_RATE + "/s" + at + ", batched", f.backend(), f.batchedPerSecond(),
                        "%.0f/s", f.batchedPerSecond() >= LEASE_RATE));
            }
            rows.add(row("apply p99 < " + (int) LEASE_P99_MS + " ms" + at, f.backend(), f.applyP99Millis(), "%.3f ms",
                    f.applyP99Millis() < LEASE_P99_MS));
        }
        for (LiveLeaseRetrieval.Figures f : live) {
            rows.add(row("RETR PASV with " + f.live() + " live leases ≥ " + LIVE_RETR + "× without", f.kind().label,
                    f.ratio(), "%.2f×", f.ratio() >= LIVE_RETR));
        }
        return "\nGoals (issue 12):\n\n| goal | setup or backend | figure | met |\n|---|---|---:|---|\n" + String.join("", rows);
    }

    private static String row(String goal, String who, double value, String format, boolean met) {
        boolean measured = !Double.isNaN(value) && !Double.isInfinite(value);
        return String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", goal, who,
                measured ? String.format(Locale.ROOT, format, value) : "—", measured ? met ? "yes" : "**no**" : "not measured");
    }
}
