package io.ftpgate.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.iptables.IpsetFirewall;
import io.ftpgate.firewall.iptables.IpsetRules;
import io.ftpgate.firewall.iptables.IptablesFirewall;
import io.ftpgate.firewall.iptables.IptablesRules;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.nftables.NftFirewall;
import io.ftpgate.firewall.nftables.NftRules;

/**
 * Lease open+close rate of one firewall backend, run as its own JVM in the gateway namespace:
 * {@link IptablesFirewall}, {@link IpsetFirewall} or {@link NftFirewall} with chains (and sets) of its
 * own ({@code BENCH-IN}, {@code BENCH-in4}, table {@code inet bench}), filled to each level of live
 * leases in bulk, in the backend's exact format ({@code iptables-restore --noflush}, {@code ipset
 * restore} or {@code nft -f -} with a 600 s timeout), then {@code ops} leases applied and revoked one after the other, as ftpgate's
 * single lease thread does when leases come one at a time (after one unrecorded pass of {@code ops}, for the JIT), then
 * the same {@code ops} leases in batches of {@link #BATCH} (one {@link Firewall#change} applies a batch, one revokes
 * it), as the lease thread makes changes that queued up together. {@code nftables-kernel} is the nftables backend's
 * kernel-path lease ({@link Firewall#applyForward}: a DNAT and a SNAT map element; the revoke removes those and the
 * kernel's used mark), with the maps filled to each level; forward leases have no batched form, so that figure is NaN.
 * Prints one line per level:
 * {@code RESULT backend=B live=N ops=M per_second=R apply_p50_ms=A apply_p99_ms=P revoke_p50_ms=C revoke_p99_ms=Q
 * batched_per_second=S}. Removes its chains, sets and table at the end.
 *
 * <p>Arguments: backend ({@code iptables}, {@code ipset}, {@code nftables} or {@code nftables-kernel}),
 * comma-separated live-lease levels (ascending), ops per level.
 */
public final class LeaseChurn {

    private static final String CHAIN_PREFIX = "BENCH";
    /** Leases per {@link Firewall#change} in the batched figure. */
    static final int BATCH = 64;
    private static final InetAddress SERVER = address("203.0.113.2");
    private static final InetAddress SERVER_SIDE = address("203.0.113.1");

    private LeaseChurn() {
    }

    public static void main(String[] args) throws Exception {
        String backend = args[0];
        int[] levels = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int ops = Integer.parseInt(args[2]);
        InetAddress client = InetAddress.getByName("198.51.100.2");
        InetAddress gateway = InetAddress.getByName("198.51.100.1");
        boolean ipset = backend.equals("ipset");
        boolean kernel = backend.equals("nftables-kernel");
        // nftables: its own table only; no admin chain to insert into (manage off, no hook chains).
        NftRules nft = new NftRules("bench", -10, 0x00800000L, false);
        Firewall firewall = switch (backend) {
            case "ipset" -> new IpsetFirewall(CHAIN_PREFIX, List.of(), "iptables", "ip6tables", "ipset", "ip",
                    Duration.ofSeconds(30), false, Duration.ofSeconds(600));
            case "nftables", "nftables-kernel" -> new NftFirewall(nft, List.of(), false, List.of(), "nft", Duration.ofSeconds(30),
                    Duration.ofSeconds(600));
            default -> new IptablesFirewall(CHAIN_PREFIX, List.of(), "iptables", "ip6tables", Duration.ofSeconds(30), false);
        };
        IptablesRules rules = new IptablesRules(CHAIN_PREFIX);
        firewall.start();
        try {
            if (kernel) {
                firewall.prepareForwarding(40_000, 40_999);
            }
            // One unrecorded pass first, so that the first level does not pay for class loading and the JIT.
            for (int i = 0; i < ops; i++) {
                applyAndRevoke(firewall, kernel, client, gateway, i, null, null);
            }
            if (!kernel) {
                batched(firewall, client, gateway, ops);
            }
            int live = 0;
            for (int level : levels) {
                if (ipset) {
                    fillSet(new IpsetRules(rules), client, gateway, live, level);
                } else if (kernel) {
                    fillNftMaps(nft, client, gateway, live, level);
                } else if (backend.equals("nftables")) {
                    fillNftSet(nft, client, gateway, live, level);
                } else {
                    fillChain(rules, client, gateway, live, level);
                }
                live = level;
                List<Double> apply = new ArrayList<>();
                List<Double> revoke = new ArrayList<>();
                long start = System.nanoTime();
                for (int i = 0; i < ops; i++) {
                    applyAndRevoke(firewall, kernel, client, gateway, i, apply, revoke);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double batchedRate = kernel ? Double.NaN : batched(firewall, client, gateway, ops);
                System.out.printf(Locale.ROOT, "RESULT backend=%s live=%d ops=%d per_second=%.2f apply_p50_ms=%.3f"
                                + " apply_p99_ms=%.3f revoke_p50_ms=%.3f revoke_p99_ms=%.3f batched_per_second=%.2f%n",
                        backend, level, ops, ops / seconds, percentile(apply, 50), percentile(apply, 99),
                        percentile(revoke, 50), percentile(revoke, 99), batchedRate);
                System.out.flush();
            }
        } finally {
            firewall.stop();
        }
    }

    /**
     * Lease {@code i} applied and revoked, timed into {@code apply} and {@code revoke} when not null:
     * a data lease to port 40000 + i % 1000, or a kernel-path lease from there to the server.
     */
    private static void applyAndRevoke(Firewall firewall, boolean kernel, InetAddress client, InetAddress gateway, int i,
            List<Double> apply, List<Double> revoke) throws FirewallException {
        long t0;
        long t1;
        long t2;
        if (kernel) {
            ForwardLease lease = forward(i, client, gateway, 40_000 + i % 1_000);
            t0 = System.nanoTime();
            firewall.applyForward(lease);
            t1 = System.nanoTime();
            firewall.revokeForward(lease);
            t2 = System.nanoTime();
        } else {
            DataLease lease = new DataLease(i, DataLease.Direction.INBOUND, client, gateway, 40_000 + i % 1_000);
            t0 = System.nanoTime();
            firewall.apply(lease);
            t1 = System.nanoTime();
            firewall.revoke(lease);
            t2 = System.nanoTime();
        }
        if (apply != null) {
            apply.add((t1 - t0) / 1e6);
            revoke.add((t2 - t1) / 1e6);
        }
    }

    /** {@code ops} leases opened and closed {@link #BATCH} at a time; open+close per second. */
    private static double batched(Firewall firewall, InetAddress client, InetAddress gateway, int ops) throws FirewallException {
        long start = System.nanoTime();
        for (int first = 0; first < ops; first += BATCH) {
            List<LeaseChange> applies = new ArrayList<>();
            List<LeaseChange> revokes = new ArrayList<>();
            for (int i = first; i < Math.min(ops, first + BATCH); i++) {
                DataLease lease = new DataLease(i, DataLease.Direction.INBOUND, client, gateway, 40_000 + i % 1_000);
                applies.add(LeaseChange.apply(lease));
                revokes.add(LeaseChange.revoke(lease));
            }
            for (List<LeaseChange> batch : List.of(applies, revokes)) {
                for (FirewallException failure : firewall.change(batch)) {
                    if (failure != null) {
                        throw failure;
                    }
                }
            }
        }
        return ops / ((System.nanoTime() - start) / 1e9);
    }

    /** Kernel-path lease {@code i}: client to the gateway's {@code port}, forwarded to the server's 30000 + i % 1000. */
    static ForwardLease forward(long i, InetAddress client, InetAddress gateway, int port) {
        return new ForwardLease(i, client, gateway, port, SERVER, 30_000 + (int) (i % 1_000), SERVER_SIDE);
    }

    /** Adds kernel-path leases {@code from..to-1} as map elements in one nft -f call. */
    private static void fillNftMaps(NftRules rules, InetAddress client, InetAddress gateway, int from, int to)
            throws IOException, InterruptedException {
        if (to <= from) {
            return;
        }
        StringBuilder input = new StringBuilder();
        for (int i = from; i < to; i++) {
            input.append(rules.applyForward(forward(1_000_000 + i, client, gateway, 10_000 + i % 20_000), 600)).append('\n');
        }
        feed(List.of("nft", "-f", "-"), input.toString());
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    /** Adds leases {@code from..to-1} in one iptables-restore call, ports outside the measured ones. */
    private static void fillChain(IptablesRules rules, InetAddress client, InetAddress gateway, int from, int to)
            throws IOException, InterruptedException {
        if (to <= from) {
            return;
        }
        StringBuilder input = new StringBuilder("*filter\n");
        for (int i = from; i < to; i++) {
            List<String> argv = new ArrayList<>(rules.appendLease(filler(client, gateway, i)));
            argv.subList(0, 2).clear(); // "-w 5": iptables-restore takes no lock-wait option per line
            for (String word : argv) {
                input.append(word.contains(" ") ? "\"" + word + "\"" : word).append(' ');
            }
            input.append('\n');
        }
        input.append("COMMIT\n");
        feed(List.of("iptables-restore", "--noflush"), input.toString());
    }

    /** Adds leases {@code from..to-1} as set entries in one ipset restore call. */
    private static void fillSet(IpsetRules rules, InetAddress client, InetAddress gateway, int from, int to)
            throws IOException, InterruptedException {
        if (to <= from) {
            return;
        }
        StringBuilder input = new StringBuilder();
        for (int i = from; i < to; i++) {
            rules.addLines(filler(client, gateway, i), 600).forEach(line -> input.append(line).append('\n'));
        }
        feed(List.of("ipset", "-exist", "restore"), input.toString());
    }

    /** Adds leases {@code from..to-1} as set elements in one nft -f call, one add per lease. */
    private static void fillNftSet(NftRules rules, InetAddress client, InetAddress gateway, int from, int to)
            throws IOException, InterruptedException {
        if (to <= from) {
            return;
        }
        StringBuilder input = new StringBuilder();
        for (int i = from; i < to; i++) {
            input.append(rules.change(LeaseChange.apply(filler(client, gateway, i)), 600)).append('\n');
        }
        feed(List.of("nft", "-f", "-"), input.toString());
    }

    /** Filler lease number {@code i}: a port outside the measured 40000-40999 (up to 20,000 distinct). */
    private static DataLease filler(InetAddress client, InetAddress gateway, int i) {
        return new DataLease(1_000_000 + i, DataLease.Direction.INBOUND, client, gateway, 10_000 + i % 20_000);
    }

    private static void feed(List<String> argv, String input) throws IOException, InterruptedException {
        Process restore = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try (OutputStream stdin = restore.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.US_ASCII));
        }
        String output = new String(restore.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!restore.waitFor(60, TimeUnit.SECONDS) || restore.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + output);
        }
    }

    /** The value below which {@code p} percent of the values lie (nearest rank). */
    private static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }
}
