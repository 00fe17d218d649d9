package io.ftpgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.iptables.ForwardRules;
import io.ftpgate.firewall.iptables.IpsetRules;
import io.ftpgate.firewall.iptables.IptablesRules;
import io.ftpgate.firewall.nftables.NftRules;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;

/**
 * RETR (PASV) through each ftpgate setup with and without {@code n} live leases in the running
 * gateway's own firewall objects — what a busy gateway's packets pass through. The leases are put
 * where ftpgate puts its own, in its exact format, between the same client and gateway addresses
 * as the measured transfer (the worst case for a rule list: the addresses match, only the port
 * does not), on ports 10000-29999, outside the data ports, each living 600 s:
 * <ul>
 *   <li>iptables: {@code n} rules in {@code FTPGATE-IN} ({@code iptables-restore --noflush});
 *       with {@code data.path = kernel} {@code n} leases of four rules each in {@code FTPGATE-DNAT},
 *       {@code FTPGATE-SNAT} and {@code FTPGATE-FWD} (and their {@code recent} lists);
 *   <li>ipset: {@code n} entries in {@code FTPGATE-in4} ({@code ipset restore});
 *   <li>nftables: {@code n} elements in {@code in4}; with the kernel path {@code n} elements in each
 *       of {@code fwd4} and {@code snat4} ({@code nft -f}).
 * </ul>
 * Per round and setup (the order rotated each round, and which comes first alternated): one RETR
 * without them, one with, then the firewall objects put back as they were (iptables: the tables
 * saved before, restored; sets and maps flushed: no lease of ftpgate's own is live between
 * transfers). The ratio is the median over the rounds of with ÷ without of the same round.
 */
final class LiveLeaseRetrieval {

    private static final String PREFIX = "FTPGATE";
    private static final String NFT_TABLE = "ftpgate";

    /** One setup's figures: medians of the rounds, and the median of the per-round ratios. */
    record Figures(BenchSetup.Kind kind, int live, double withoutMiBps, double withMiBps, double ratio, String failure) {
    }

    private LiveLeaseRetrieval() {
    }

    static List<Figures> measure(List<BenchSetup> setups, int live, int rounds, Consumer<String> log) {
        Map<BenchSetup, List<double[]>> samples = new LinkedHashMap<>();
        Map<BenchSetup, String> failures = new LinkedHashMap<>();
        for (BenchSetup setup : setups) {
            samples.put(setup, new ArrayList<>());
        }
        for (int r = 1; r <= rounds; r++) {
            log.accept("RETR with " + live + " live leases, round " + r + " of " + rounds);
            List<BenchSetup> order = new ArrayList<>(setups);
            Collections.rotate(order, r);
            for (BenchSetup setup : order) {
                if (failures.containsKey(setup)) {
                    continue;
                }
                try {
                    samples.get(setup).add(round(setup, live, r % 2 == 0));
                } catch (RuntimeException e) {
                    failures.put(setup, e.getMessage() + setup.gatewayComplaints());
                }
            }
        }
        List<Figures> figures = new ArrayList<>();
        for (BenchSetup setup : setups) {
            List<double[]> s = samples.get(setup);
            figures.add(new Figures(setup.kind, live, median(s, x -> x[0]), median(s, x -> x[1]),
                    median(s, x -> x[1] / x[0]), failures.get(setup)));
        }
        return figures;
    }

    /** {without, with} in MiB/s; the firewall objects are as before afterwards. */
    private static double[] round(BenchSetup setup, int live, boolean withFirst) {
        double without = withFirst ? Double.NaN : setup.retrieveMiBps(FtpMode.PASV);
        Filler filler = new Filler(setup);
        filler.fill(live);
        double with;
        try {
            with = setup.retrieveMiBps(FtpMode.PASV);
        } finally {
            filler.clear();
        }
        if (withFirst) {
            without = setup.retrieveMiBps(FtpMode.PASV);
        }
        return new double[] {without, with};
    }

    /** Puts {@code n} leases into one setup's firewall objects and takes them out again. */
    private static final class Filler {
        private final BenchSetup setup;
        private final Topology topology;
        private final String backend;
        private final boolean kernel;
        private final Path file;
        private final Map<String, String> saved = new LinkedHashMap<>();

        Filler(BenchSetup setup) {
            this.setup = setup;
            this.topology = setup.topology;
            this.backend = setup.kind.backend();
            this.kernel = setup.kind.kernelPath();
            this.file = topology.workDir().resolve("live-leases.txt");
        }

        void fill(int n) {
            InetAddress client = address(Topology.CLIENT_V4);
            InetAddress gateway = address(Topology.GATEWAY_CLIENT_SIDE_V4);
            IptablesRules iptables = new IptablesRules(PREFIX);
            NftRules nft = new NftRules(NFT_TABLE, -10, 0x00800000L, false);
            StringBuilder input = new StringBuilder();
            List<List<String>> rules = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long session = 1_000_000L + i;
                int port = 10_000 + i % 20_000;
                DataLease lease = new DataLease(session, DataLease.Direction.INBOUND, client, gateway, port);
                ForwardLease forward = LeaseChurn.forward(session, client, gateway, port);
                switch (backend) {
                    case "iptables" -> {
                        if (kernel) {
                            rules.addAll(new ForwardRules(iptables).append(forward));
                        } else {
                            rules.add(iptables.appendLease(lease));
                        }
                    }
                    case "ipset" -> new IpsetRules(iptables).addLines(lease, 600).forEach(l -> input.append(l).append('\n'));
                    default -> input.append(kernel ? nft.applyForward(forward, 600)
                            : nft.change(LeaseChange.apply(lease), 600)).append('\n');
                }
            }
            List<String> argv = switch (backend) {
                case "iptables" -> {
                    for (String table : kernel ? List.of("filter", "nat") : List.of("filter")) {
                        saved.put(table, run("iptables-save", "-t", table).stdout());
                    }
                    input.append(kernel ? ForwardRules.restoreInput(rules) : IptablesRules.restoreInput(rules));
                    yield List.of("iptables-restore", "-w", "5", "--noflush", file.toString());
                }
                case "ipset" -> List.of("ipset", "-exist", "restore", "-f", file.toString());
                default -> List.of("nft", "-f", file.toString());
            };
            write(input.toString());
            run(argv.toArray(String[]::new));
        }

        void clear() {
            switch (backend) {
                case "iptables" -> saved.forEach((table, rules) -> {
                    write(rules);
                    run("iptables-restore", "-w", "5", "-T", table, file.toString());
                });
                case "ipset" -> run("ipset", "flush", new IpsetRules(new IptablesRules(PREFIX)).set(IpsetRules.Kind.IN, false));
                default -> {
                    String table = "inet " + NFT_TABLE;
                    write(kernel ? "flush map " + table + " fwd4\nflush map " + table + " snat4\n"
                            : "flush set " + table + " in4\n");
                    run("nft", "-f", file.toString());
                }
            }
        }

        private void write(String text) {
            try {
                Files.writeString(file, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private ExecResult run(String... argv) {
            ExecResult result = topology.exec(topology.gateway, Duration.ofMinutes(3), argv);
            if (!result.ok()) {
                throw new BenchSetup.BenchFailure(setup.kind.label + ": " + result.describe());
            }
            return result;
        }
    }

    private interface Value {
        double of(double[] sample);
    }

    private static double median(List<double[]> samples, Value value) {
        List<Double> values = samples.stream().map(value::of).filter(v -> !v.isNaN()).sorted().toList();
        int n = values.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    static String report(List<Figures> figures, int rounds, String failure) {
        StringBuilder out = new StringBuilder("\nRETR (PASV) with live leases in the running gateway's own firewall objects ")
                .append("(same client and gateway addresses, ports outside the data ports; per round one RETR without, ")
                .append("one with, alternating which first; ").append(rounds).append(" round(s); ratio = median of the ")
                .append("per-round with ÷ without):\n\n");
        if (failure != null) {
            return out.append("- not measured: ").append(failure.strip().replaceAll("\\s+", " ")).append('\n').toString();
        }
        out.append("| setup | backend | live leases | without MiB/s | with MiB/s | with ÷ without |\n")
                .append("|---|---|---:|---:|---:|---:|\n");
        List<String> notes = new ArrayList<>();
        for (Figures f : figures) {
            out.append(String.format(Locale.ROOT, "| %s | %s%s | %d | %s | %s | %s |%n", f.kind().label, f.kind().backend(),
                    f.kind().kernelPath() ? " (kernel path)" : "", f.live(), number(f.withoutMiBps(), "%.0f"),
                    number(f.withMiBps(), "%.0f"), number(f.ratio(), "%.2f")));
            if (f.failure() != null) {
                notes.add("- `" + f.kind().label + "` with live leases failed: " + f.failure().strip().replaceAll("\\s+", " "));
            }
        }
        if (!notes.isEmpty()) {
            out.append('\n').append(String.join("\n", notes)).append('\n');
        }
        return out.toString();
    }

    private static String number(double value, String format) {
        return Double.isNaN(value) ? "—" : String.format(Locale.ROOT, format, value);
    }
}
