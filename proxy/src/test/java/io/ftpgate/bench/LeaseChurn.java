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
import io.ftpgate.firewall.iptables.IptablesFirewall;
import io.ftpgate.firewall.iptables.IptablesRules;

/**
 * Lease open+close rate of the iptables backend, run as its own JVM in the gateway namespace:
 * {@link IptablesFirewall} with chains of its own ({@code BENCH-IN}), filled to each level of live
 * leases (in bulk with {@code iptables-restore --noflush}, in ftpgate's exact rule format), then
 * {@code ops} leases applied and revoked one after the other, as ftpgate's single lease thread
 * does. Prints one line per level:
 * {@code RESULT live=N ops=M per_second=R apply_p50_ms=A revoke_p50_ms=B}. Removes its chains at
 * the end.
 *
 * <p>Arguments: comma-separated live-lease levels (ascending), ops per level.
 */
public final class LeaseChurn {

    private static final String CHAIN_PREFIX = "BENCH";

    private LeaseChurn() {
    }

    public static void main(String[] args) throws Exception {
        int[] levels = Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        int ops = Integer.parseInt(args[1]);
        InetAddress client = InetAddress.getByName("198.51.100.2");
        InetAddress gateway = InetAddress.getByName("198.51.100.1");
        IptablesFirewall firewall = new IptablesFirewall(CHAIN_PREFIX, List.of(), "iptables", "ip6tables",
                Duration.ofSeconds(30), false);
        IptablesRules rules = new IptablesRules(CHAIN_PREFIX);
        firewall.start();
        try {
            int live = 0;
            for (int level : levels) {
                fill(rules, client, gateway, live, level);
                live = level;
                List<Double> apply = new ArrayList<>();
                List<Double> revoke = new ArrayList<>();
                long start = System.nanoTime();
                for (int i = 0; i < ops; i++) {
                    DataLease lease = new DataLease(i, DataLease.Direction.INBOUND, client, gateway, 40_000 + i % 1_000);
                    long t0 = System.nanoTime();
                    firewall.apply(lease);
                    long t1 = System.nanoTime();
                    firewall.revoke(lease);
                    long t2 = System.nanoTime();
                    apply.add((t1 - t0) / 1e6);
                    revoke.add((t2 - t1) / 1e6);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "RESULT live=%d ops=%d per_second=%.2f apply_p50_ms=%.2f revoke_p50_ms=%.2f%n",
                        level, ops, ops / seconds, median(apply), median(revoke));
                System.out.flush();
            }
        } finally {
            firewall.stop();
        }
    }

    /** Adds leases {@code from..to-1} in one iptables-restore call, ports outside the measured ones. */
    private static void fill(IptablesRules rules, InetAddress client, InetAddress gateway, int from, int to)
            throws IOException, InterruptedException {
        if (to <= from) {
            return;
        }
        StringBuilder input = new StringBuilder("*filter\n");
        for (int i = from; i < to; i++) {
            DataLease lease = new DataLease(1_000_000 + i, DataLease.Direction.INBOUND, client, gateway, 10_000 + i % 20_000);
            List<String> argv = new ArrayList<>(rules.appendLease(lease));
            argv.subList(0, 2).clear(); // "-w 5": iptables-restore takes no lock-wait option per line
            for (String word : argv) {
                input.append(word.contains(" ") ? "\"" + word + "\"" : word).append(' ');
            }
            input.append('\n');
        }
        input.append("COMMIT\n");
        Process restore = new ProcessBuilder("iptables-restore", "--noflush").redirectErrorStream(true).start();
        try (OutputStream stdin = restore.getOutputStream()) {
            stdin.write(input.toString().getBytes(StandardCharsets.US_ASCII));
        }
        String output = new String(restore.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!restore.waitFor(60, TimeUnit.SECONDS) || restore.exitValue() != 0) {
            throw new IOException("iptables-restore failed: " + output);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }
}
