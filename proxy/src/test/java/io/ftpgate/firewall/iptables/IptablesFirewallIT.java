package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The iptables backend against real iptables in two fresh network namespaces, joined by a veth
 * pair: the gateway ({@code 198.51.100.1}, {@code 2001:db8:1::1}) where ftpgate's rules go, and a
 * client ({@code .2}, {@code ::2}). Nothing outside the two namespaces is touched; both are deleted
 * after every test, whatever happened.
 */
@Tag("netns")
class IptablesFirewallIT {

    private static final String GATEWAY_V4 = "198.51.100.1";
    private static final String CLIENT_V4 = "198.51.100.2";
    private static final String GATEWAY_V6 = "2001:db8:1::1";
    private static final String CLIENT_V6 = "2001:db8:1::2";
    private static final Duration TIMEOUT = VethNamespaces.TIMEOUT;

    private final IptablesRules rules = new IptablesRules("FTPGATE");
    private VethNamespaces namespaces;
    private String gateway;

    @BeforeEach
    void createNamespaces() throws Exception {
        RootTools.requireRootAndTools("ip", "iptables", "ip6tables", "iptables-save", "ip6tables-save");
        namespaces = VethNamespaces.create("fw", List.of(GATEWAY_V4, GATEWAY_V6), List.of(CLIENT_V4, CLIENT_V6));
        gateway = namespaces.gateway;
    }

    @AfterEach
    void deleteNamespaces() {
        if (namespaces != null) {
            namespaces.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void startCreatesBothChainsAndOneJumpEach(String flavour) throws Exception {
        requireFlavour(flavour);
        IptablesFirewall firewall = firewall(flavour, true);
        assertThat(firewall.start()).isZero();

        for (String binary : binaries(flavour)) {
            List<String> table = list(binary);
            assertThat(table).contains("-N FTPGATE-IN", "-N FTPGATE-OUT");
            assertThat(table).filteredOn(line -> line.startsWith("-A INPUT ")).first().isEqualTo("-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
            assertThat(table).filteredOn("-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN"::equals).hasSize(1);
            assertThat(table).filteredOn("-A OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT"::equals).hasSize(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void applyAddsExactlyTheGoldenLineAndRevokeRemovesIt(String flavour) throws Exception {
        requireFlavour(flavour);
        IptablesFirewall firewall = firewall(flavour, true);
        firewall.start();
        List<DataLease> leases = List.of(
                new DataLease(17, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001),
                new DataLease(17, Direction.OUTBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 20),
                new DataLease(18, Direction.INBOUND, ip(CLIENT_V6), ip(GATEWAY_V6), 40002),
                new DataLease(18, Direction.OUTBOUND, ip(CLIENT_V6), ip(GATEWAY_V6), 20));

        for (DataLease lease : leases) {
            String binary = binaries(flavour).get(lease.isIpv6() ? 1 : 0);
            Hook hook = IptablesRules.hookOf(lease);
            firewall.apply(lease);
            assertThat(listChain(binary, hook)).containsExactly(rules.chainLine(hook), rules.listedLine(lease));
            firewall.revoke(lease);
            assertThat(listChain(binary, hook)).containsExactly(rules.chainLine(hook));
            firewall.revoke(lease); // already gone: not an error
        }
    }

    @Test
    void aSecondStartCountsAndRemovesOrphansAndKeepsOneJump() throws Exception {
        firewall("iptables", false).start();
        // Behind ftpgate's back: two leftover leases and the duplicate jumps a crash could leave.
        DataLease v4 = new DataLease(3, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001);
        DataLease v6 = new DataLease(3, Direction.INBOUND, ip(CLIENT_V6), ip(GATEWAY_V6), 40001);
        run(in(gateway, "iptables", rules.appendLease(v4)));
        run(in(gateway, "ip6tables", rules.appendLease(v6)));
        run(in(gateway, "iptables", rules.insertJump(Hook.IN)));
        run(in(gateway, "iptables", rules.insertJump(Hook.IN)));
        // and the unconditional jump of releases before 2026-12
        run(in(gateway, "iptables", List.of("-w", "5", "-I", "INPUT", "1", "-j", "FTPGATE-IN")));

        assertThat(firewall("iptables", false).start()).isEqualTo(2);
        assertThat(firewall("iptables", false).start()).isZero();

        for (String binary : List.of("iptables", "ip6tables")) {
            assertThat(listChain(binary, Hook.IN)).containsExactly("-N FTPGATE-IN");
            assertThat(list(binary)).filteredOn(line -> line.contains("-j FTPGATE-IN")).containsExactly(
                    "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void stopLeavesNothingAndIsIdempotent(String flavour) throws Exception {
        requireFlavour(flavour);
        IptablesFirewall firewall = firewall(flavour, true);
        firewall.start();
        firewall.apply(new DataLease(5, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001));
        firewall.apply(new DataLease(5, Direction.INBOUND, ip(CLIENT_V6), ip(GATEWAY_V6), 40001));

        firewall.stop();
        firewall.stop();

        for (String save : List.of(flavour + "-save", flavour.replace("iptables", "ip6tables") + "-save")) {
            assertThat(run(in(gateway, save, List.of())).stdout()).doesNotContainIgnoringCase("FTPGATE");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"IPv4", "IPv6"})
    void aLeaseOpensExactlyItsConnectionUntilRevoked(String family) throws Exception {
        boolean v6 = family.equals("IPv6");
        String binary = v6 ? "ip6tables" : "iptables";
        String gatewayAddress = v6 ? GATEWAY_V6 : GATEWAY_V4;
        // The gateway admits only what ftpgate leases, packets of established connections and,
        // for IPv6, ICMPv6 (neighbour discovery).
        run(in(gateway, binary, List.of("-w", "5", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED", "-j", "ACCEPT")));
        if (v6) {
            run(in(gateway, binary, List.of("-w", "5", "-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT")));
        }
        run(in(gateway, binary, List.of("-w", "5", "-P", "INPUT", "DROP")));
        IptablesFirewall firewall = firewall("iptables", false);
        firewall.start();
        namespaces.listen(40001);
        namespaces.listen(40002);
        DataLease lease = new DataLease(21, Direction.INBOUND, ip(v6 ? CLIENT_V6 : CLIENT_V4), ip(gatewayAddress), 40001);

        assertThat(connect(gatewayAddress, 40001)).as("before apply").isFalse();
        firewall.apply(lease);
        assertThat(connect(gatewayAddress, 40001)).as("after apply").isTrue();
        assertThat(connect(gatewayAddress, 40002)).as("another port after apply").isFalse();
        firewall.revoke(lease);
        assertThat(connect(gatewayAddress, 40001)).as("new connection after revoke").isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void kernelPathRulesAreListedAsDocumentedAndRemovedByRevokeAndStop(String flavour) throws Exception {
        requireFlavour(flavour);
        IptablesFirewall firewall = firewall(flavour, false);
        firewall.start();
        firewall.prepareForwarding(40000, 40999);
        ForwardLease v4 = new ForwardLease(17, ip(CLIENT_V4), ip(GATEWAY_V4), 40017, ip("203.0.113.2"), 30000,
                ip("203.0.113.1"));
        ForwardLease v6 = new ForwardLease(18, ip(CLIENT_V6), ip(GATEWAY_V6), 40018, ip("2001:db8:2::2"), 30000,
                ip("2001:db8:2::1"));
        String iptables = binaries(flavour).get(0);
        String ip6tables = binaries(flavour).get(1);

        firewall.applyForward(v4);
        firewall.applyForward(v6);
        // The ForwardRules Javadoc and the README show these lines.
        assertThat(listTable(iptables, "nat")).contains(
                "-A PREROUTING -j FTPGATE-DNAT",
                "-A POSTROUTING -j FTPGATE-SNAT",
                "-A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --rcheck"
                        + " --name FTPGATE-17-40017 --mask 255.255.255.255 --rsource -m comment --comment \"ftpgate session 17\" -j RETURN",
                "-A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --set"
                        + " --name FTPGATE-17-40017 --mask 255.255.255.255 --rsource -m comment --comment \"ftpgate session 17\""
                        + " -j DNAT --to-destination 203.0.113.2:30000",
                "-A FTPGATE-SNAT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate DNAT"
                        + " --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment \"ftpgate session 17\""
                        + " -j SNAT --to-source 203.0.113.1");
        assertThat(listTable(iptables, "filter")).contains(
                "-A FORWARD -j FTPGATE-FWD",
                "-A FTPGATE-FWD -m conntrack --ctstate RELATED,ESTABLISHED -m conntrack --ctstate DNAT --ctproto 6"
                        + " --ctorigdstport 40000:40999 -m comment --comment \"ftpgate kernel path\" -j ACCEPT",
                "-A FTPGATE-FWD -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate NEW"
                        + " --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment \"ftpgate session 17\" -j ACCEPT");
        assertThat(leaseLines(ip6tables)).as("the IPv6 lease's rules").hasSize(4)
                .anyMatch(l -> l.endsWith("-j DNAT --to-destination [2001:db8:2::2]:30000"));
        assertThat(firewall.forwardConnected(v4)).as("connected before any connection").isFalse();

        firewall.revokeForward(v4);
        firewall.revokeForward(v4); // already gone: not an error
        assertThat(leaseLines(iptables)).as("IPv4 lease rules after revoke").isEmpty();
        assertThat(leaseLines(ip6tables)).as("the IPv6 lease is untouched").hasSize(4);

        assertThat(firewall(flavour, false).start()).as("orphans a second start finds").isEqualTo(1);
        assertThat(leaseLines(ip6tables)).as("IPv6 lease rules after the second start").isEmpty();
        firewall.prepareForwarding(40000, 40999);
        firewall.stop();
        for (String save : List.of(flavour + "-save", flavour.replace("iptables", "ip6tables") + "-save")) {
            assertThat(run(in(gateway, save, List.of())).stdout()).doesNotContainIgnoringCase("FTPGATE");
        }
    }

    // --- hazards: a command killed after it committed, and changes queued up under load ---

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void anAddKilledAfterItCommittedIsUndone(String flavour) throws Exception {
        requireFlavour(flavour);
        CountingRunner runner = new CountingRunner();
        IptablesFirewall firewall = firewall(flavour, false, runner);
        firewall.start();
        DataLease lease = new DataLease(9, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001);
        // The rule goes in, but the command is reported as killed at its timeout, as a slow one is.
        runner.reportTimeoutFor(" -A FTPGATE-IN ");

        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.timedOut()).isTrue();
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE);
        });
        assertThat(listChain(binaries(flavour).get(0), Hook.IN)).as("the committed rule was undone")
                .containsExactly(rules.chainLine(Hook.IN));
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void manyLeaseChangesQueuedTogetherAreMadeInAFewRestoreBatches(String flavour) throws Exception {
        requireFlavour(flavour);
        CountingRunner runner = new CountingRunner();
        String iptables = binaries(flavour).get(0);
        int count = 200;
        List<DataLease> leases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            leases.add(new DataLease(1000 + i, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 41000 + i));
        }
        try (LeaseExecutor executor = new LeaseExecutor(firewall(flavour, false, runner))) {
            executor.start();

            int before = runner.processes();
            long applyNanos = queuedUpBehindOneCommand(runner, leases, executor::apply);
            int applyProcesses = runner.processes() - before;
            assertThat(leaseLines(iptables)).as("every lease's rule").hasSize(count);

            before = runner.processes();
            int restoresBefore = runner.restores();
            long revokeNanos = queuedUpBehindOneCommand(runner, leases, executor::revoke);
            int revokeProcesses = runner.processes() - before;
            assertThat(leaseLines(iptables)).as("rules left after the revokes completed").isEmpty();
            assertThat(executor.activeLeases()).isZero();

            System.out.printf("%s: %d leases applied with %d process(es) in %.1f ms, revoked with %d in %.1f ms"
                            + " (one by one: %d each)%n", flavour, count, applyProcesses, applyNanos / 1e6,
                    revokeProcesses, revokeNanos / 1e6, count);
            // The first change may start alone before the rest are queued; all the others are one batch.
            assertThat(applyProcesses).as("processes for %d applies", count).isBetween(1, 2);
            assertThat(revokeProcesses).as("processes for %d revokes", count).isBetween(1, 2);
            assertThat(runner.restores() - restoresBefore).as("iptables-restore batches for the revokes").isBetween(1, 2);
            executor.stop();
        }
    }

    @Test
    void aBatchKilledAfterItCommittedUndoesItsAppliesAndMakesItsRevokesAgain() throws Exception {
        CountingRunner runner = new CountingRunner();
        IptablesFirewall firewall = firewall("iptables", false, runner);
        firewall.start();
        DataLease kept = new DataLease(1, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001);
        DataLease added = new DataLease(2, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40002);
        DataLease alsoAdded = new DataLease(3, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40003);
        firewall.apply(kept);
        runner.reportTimeoutFor("iptables-restore");

        List<FirewallException> results = firewall.change(List.of(LeaseChange.revoke(kept), LeaseChange.apply(added),
                LeaseChange.apply(alsoAdded)));

        assertThat(results.get(0)).as("the revoke, made again alone").isNull();
        assertThat(results.subList(1, 3)).allSatisfy(e -> {
            assertThat(e.timedOut()).isTrue();
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE);
        });
        assertThat(listChain("iptables", Hook.IN)).containsExactly(rules.chainLine(Hook.IN));
    }

    /**
     * Holds the firewall thread in its next command while every change is submitted, so that they
     * queue up as under load; returns the nanoseconds from release until every change completed.
     */
    private static long queuedUpBehindOneCommand(CountingRunner runner, List<DataLease> leases,
            Function<DataLease, CompletableFuture<Void>> change) throws Exception {
        CountDownLatch gate = runner.holdNext();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (DataLease lease : leases) {
            done.add(change.apply(lease));
        }
        runner.awaitHeld();
        long start = System.nanoTime();
        gate.countDown();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        return System.nanoTime() - start;
    }

    /**
     * The real runner, counting the processes it starts; it can hold the next command until
     * released, and report commands that contain a text as killed at their timeout after they ran.
     */
    private static final class CountingRunner extends CommandRunner {
        private final AtomicInteger processes = new AtomicInteger();
        private final AtomicInteger restores = new AtomicInteger();
        private volatile CountDownLatch hold;
        private final CountDownLatch held = new CountDownLatch(1);
        private volatile String timeoutFor;

        int processes() {
            return processes.get();
        }

        int restores() {
            return restores.get();
        }

        CountDownLatch holdNext() {
            hold = new CountDownLatch(1);
            return hold;
        }

        void awaitHeld() throws InterruptedException {
            assertThat(held.await(30, TimeUnit.SECONDS)).as("the firewall thread started a command").isTrue();
        }

        void reportTimeoutFor(String commandPart) {
            timeoutFor = commandPart;
        }

        @Override
        public Result run(List<String> argv, Duration timeout, String input) throws IOException {
            CountDownLatch gate = hold;
            if (gate != null) {
                hold = null;
                held.countDown();
                try {
                    gate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            processes.incrementAndGet();
            if (argv.stream().anyMatch(arg -> arg.endsWith("-restore"))) {
                restores.incrementAndGet();
            }
            Result result = super.run(argv, timeout, input);
            String part = timeoutFor;
            if (part != null && (" " + IptablesRules.commandLine(argv) + " ").contains(part)) {
                timeoutFor = null;
                assertThat(result.ok()).as("%s: %s", IptablesRules.commandLine(argv), result.failure()).isTrue();
                return new Result(argv, Result.KILLED, result.stdout(), result.stderr(), result.elapsed(), true);
            }
            return result;
        }
    }

    // --- helpers ---

    private IptablesFirewall firewall(String flavour, boolean guardOutput) {
        return firewall(flavour, guardOutput, new CommandRunner());
    }

    private IptablesFirewall firewall(String flavour, boolean guardOutput, CommandRunner runner) {
        List<String> binaries = binaries(flavour);
        return new IptablesFirewall("FTPGATE", List.of("ip", "netns", "exec", gateway),
                binaries.get(0), binaries.get(1), TIMEOUT, guardOutput, runner);
    }

    private static List<String> binaries(String flavour) {
        return VethNamespaces.binaries(flavour);
    }

    private static void requireFlavour(String flavour) {
        VethNamespaces.requireFlavour(flavour);
    }

    private List<String> list(String binary) throws IOException {
        return run(in(gateway, binary, List.of("-w", "5", "-S"))).stdout().lines().toList();
    }

    private List<String> listTable(String binary, String table) throws IOException {
        return run(in(gateway, binary, List.of("-w", "5", "-t", table, "-S"))).stdout().lines().toList();
    }

    /** Every lease rule of the kernel path (nat and filter) listed by {@code binary}. */
    private List<String> leaseLines(String binary) throws IOException {
        List<String> lines = new ArrayList<>(listTable(binary, "nat"));
        lines.addAll(listTable(binary, "filter"));
        return lines.stream().filter(l -> l.contains("ftpgate session")).toList();
    }

    private List<String> listChain(String binary, Hook hook) throws IOException {
        return run(in(gateway, binary, rules.listChain(hook))).stdout().lines().toList();
    }

    private static List<String> in(String ns, String binary, List<String> args) {
        return VethNamespaces.in(ns, binary, args);
    }

    private CommandRunner.Result run(String... argv) throws IOException {
        return namespaces.run(argv);
    }

    private CommandRunner.Result run(List<String> argv) throws IOException {
        return namespaces.run(argv);
    }

    private boolean connect(String host, int port) throws Exception {
        return namespaces.connect(host, port, null);
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }
}
