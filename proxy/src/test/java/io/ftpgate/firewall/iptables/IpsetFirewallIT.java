package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import io.ftpgate.testing.RootTools;

import java.io.IOException;

import java.net.InetAddress;



import java.time.Duration;
import java.util.ArrayList;

import java.util.List;


import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ipset backend against real ipset and iptables (nft and legacy) in two fresh network
 * namespaces joined by a veth pair: the gateway ({@code 198.51.100.1} and {@code .9},
 * {@code 2001:db8:1::1} and {@code ::9}) where ftpgate's sets and rules go, and a client ({@code .2}
 * and a third host's {@code .3}, {@code ::2}/{@code ::3}). Nothing outside the two namespaces is
 * touched; both are deleted after every test, whatever happened.
 */
@Tag("netns")
class IpsetFirewallIT {

    private static final String GATEWAY_V4 = "198.51.100.1";
    private static final String OTHER_GATEWAY_V4 = "198.51.100.9";
    private static final String CLIENT_V4 = "198.51.100.2";
    private static final String THIRD_V4 = "198.51.100.3";
    private static final String GATEWAY_V6 = "2001:db8:1::1";
    private static final String OTHER_GATEWAY_V6 = "2001:db8:1::9";
    private static final String CLIENT_V6 = "2001:db8:1::2";
    private static final String THIRD_V6 = "2001:db8:1::3";
    private static final Duration TIMEOUT = VethNamespaces.TIMEOUT;
    private static final Duration LIFETIME = Duration.ofSeconds(60);

    private final IptablesRules chains = new IptablesRules("FTPGATE");
    private final IpsetRules sets = new IpsetRules(chains);
    private final List<IpsetFirewall> firewalls = new ArrayList<>();
    private VethNamespaces namespaces;
    private String gateway;

    @BeforeEach
    void createNamespaces() throws Exception {
        RootTools.requireRootAndTools("ip", "ipset", "iptables", "ip6tables", "iptables-save", "ip6tables-save");
        namespaces = VethNamespaces.create("ipset", List.of(GATEWAY_V4, OTHER_GATEWAY_V4, GATEWAY_V6, OTHER_GATEWAY_V6),
                List.of(CLIENT_V4, THIRD_V4, CLIENT_V6, THIRD_V6));
        gateway = namespaces.gateway;
    }

    @AfterEach
    void deleteNamespaces() {
        for (IpsetFirewall firewall : firewalls) {
            try {
                firewall.stop();
            } catch (Exception ignored) {
                // the namespace goes anyway; this only ends the ipset process
            }
        }
        if (namespaces != null) {
            namespaces.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void startCreatesTheSetsAndEachStaticRuleOnce(String flavour) throws Exception {
        requireFlavour(flavour);
        IpsetFirewall firewall = firewall(flavour, true, LIFETIME);
        assertThat(firewall.start()).isZero();
        assertThat(firewall(flavour, true, LIFETIME).start()).as("a second start").isZero();

        assertThat(setNames()).containsExactlyInAnyOrderElementsOf(sets.allSets());
        for (boolean ipv6 : new boolean[] {false, true}) {
            List<String> table = list(binaries(flavour).get(ipv6 ? 1 : 0), "-S");
            for (Hook hook : Hook.values()) {
                String rule = TproxyRules.listed(sets.appendFilterRule(hook, ipv6));
                assertThat(table).as("%s in %s", rule, flavour).filteredOn(rule::equals).hasSize(1);
                assertThat(table).filteredOn(chains.jumpLine(hook)::equals).hasSize(1);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"iptables, IPv4", "iptables, IPv6", "iptables-legacy, IPv4", "iptables-legacy, IPv6"})
    void aLeaseOpensExactlyPeerPortAndAddressUntilRevoked(String flavour, String family) throws Exception {
        requireFlavour(flavour);
        boolean v6 = family.equals("IPv6");
        String binary = binaries(flavour).get(v6 ? 1 : 0);
        String gatewayAddress = v6 ? GATEWAY_V6 : GATEWAY_V4;
        String otherGatewayAddress = v6 ? OTHER_GATEWAY_V6 : OTHER_GATEWAY_V4;
        String peer = v6 ? CLIENT_V6 : CLIENT_V4;
        String third = v6 ? THIRD_V6 : THIRD_V4;
        // The gateway admits only what ftpgate leases, established packets and, for IPv6, ICMPv6.
        run(in(gateway, binary, List.of("-w", "5", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED", "-j", "ACCEPT")));
        if (v6) {
            run(in(gateway, binary, List.of("-w", "5", "-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT")));
        }
        run(in(gateway, binary, List.of("-w", "5", "-P", "INPUT", "DROP")));
        IpsetFirewall firewall = firewall(flavour, false, LIFETIME);
        firewall.start();
        namespaces.listen(40001);
        namespaces.listen(40002);
        DataLease lease = new DataLease(21, Direction.INBOUND, ip(peer), ip(gatewayAddress), 40001);

        assertThat(connect(gatewayAddress, 40001, peer)).as("before apply").isFalse();
        firewall.apply(lease);
        assertThat(entries()).as("set entries").singleElement().asString()
                .startsWith("add " + sets.set(IpsetRules.Kind.IN, v6) + " " + IpsetRules.element(lease) + " timeout ");
        assertThat(connect(gatewayAddress, 40001, peer)).as("the peer, after apply").isTrue();
        assertThat(connect(gatewayAddress, 40002, peer)).as("another port").isFalse();
        assertThat(connect(gatewayAddress, 40001, third)).as("another peer").isFalse();
        assertThat(connect(otherGatewayAddress, 40001, peer)).as("another gateway address").isFalse();
        firewall.revoke(lease);
        assertThat(entries()).as("set entries after revoke").isEmpty();
        assertThat(connect(gatewayAddress, 40001, peer)).as("new connection after revoke").isFalse();
        firewall.revoke(lease); // already gone: not an error
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void theCheckPutsBackWhatARestoreOfTheAdminsRulesRemovedAndTheLiveLeaseWorksAgain(String flavour) throws Exception {
        requireFlavour(flavour);
        String binary = binaries(flavour).get(0);
        run(in(gateway, binary, List.of("-w", "5", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED", "-j", "ACCEPT")));
        run(in(gateway, binary, List.of("-w", "5", "-P", "INPUT", "DROP")));
        String adminsFile = run(in(gateway, binary + "-save", List.of())).stdout();
        // An admin's rules.v6 that accepts everything, as iptables-persistent writes it.
        String adminsFile6 = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
        IpsetFirewall firewall = firewall(flavour, false, LIFETIME);
        firewall.start();
        namespaces.listen(40001);
        firewall.apply(new DataLease(21, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001));
        assertThat(firewall.restoreMissing()).as("nothing missing").isEmpty();

        // netfilter-persistent reload: the admin's file, which knows nothing of ftpgate's chains
        run(List.of("ip", "netns", "exec", gateway, "sh", "-c", "printf '%s' \"$0\" | " + binary + "-restore", adminsFile));
        assertThat(list(binary, "-S")).noneMatch(line -> line.contains("FTPGATE"));
        assertThat(connect(GATEWAY_V4, 40001, CLIENT_V4)).as("leased, but the chain is gone").isFalse();

        assertThat(firewall.restoreMissing()).containsExactly("chain FTPGATE-IN (IPv4)", "jump INPUT -> FTPGATE-IN (IPv4)",
                "rule " + TproxyRules.listed(sets.appendFilterRule(Hook.IN, false)) + " (IPv4)");
        assertThat(entries()).as("the set and its live lease stayed").hasSize(1);
        assertThat(connect(GATEWAY_V4, 40001, CLIENT_V4)).as("the live lease, after the check").isTrue();
        assertThat(connect(GATEWAY_V4, 40001, THIRD_V4)).as("a third host").isFalse();
        assertThat(firewall.restoreMissing()).as("all in place again").isEmpty();

        // A set can go only with the rules that use it: ip6tables' file restored, then ipset destroy.
        run(List.of("ip", "netns", "exec", gateway, "sh", "-c", "printf '%s' \"$0\" | " + binaries(flavour).get(1) + "-restore",
                adminsFile6));
        run(in(gateway, "ipset", List.of("destroy", sets.set(IpsetRules.Kind.IN, true))));
        assertThat(firewall.restoreMissing()).containsExactly("set " + sets.set(IpsetRules.Kind.IN, true),
                "chain FTPGATE-IN (IPv6)", "jump INPUT -> FTPGATE-IN (IPv6)",
                "rule " + TproxyRules.listed(sets.appendFilterRule(Hook.IN, true)) + " (IPv6)");
        assertThat(setNames()).containsExactlyInAnyOrderElementsOf(sets.allSets());
    }

    @Test
    void anEntryExpiresByItselfWithoutRevoke() throws Exception {
        run(in(gateway, "iptables", List.of("-w", "5", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED", "-j", "ACCEPT")));
        run(in(gateway, "iptables", List.of("-w", "5", "-P", "INPUT", "DROP")));
        IpsetFirewall firewall = firewall("iptables", false, Duration.ofSeconds(2));
        firewall.start();
        namespaces.listen(40001);
        firewall.apply(new DataLease(22, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001));
        assertThat(connect(GATEWAY_V4, 40001, CLIENT_V4)).as("while the entry lives").isTrue();

        await("the entry expires by itself").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250))
                .until(() -> entries().isEmpty());
        assertThat(connect(GATEWAY_V4, 40001, CLIENT_V4)).as("after the entry expired").isFalse();
    }

    @Test
    void startCountsAndFlushesTheEntriesAnEarlierRunLeft() throws Exception {
        firewall("iptables", false, LIFETIME).start();
        // As a run killed with -9 leaves them: entries with time to live, the static rules in place.
        run(in(gateway, "ipset", List.of("add", "FTPGATE-in4", CLIENT_V4 + ",tcp:40001," + GATEWAY_V4, "timeout", "600")));
        run(in(gateway, "ipset", List.of("add", "FTPGATE-in6", CLIENT_V6 + ",tcp:40001," + GATEWAY_V6, "timeout", "600")));
        run(in(gateway, "ipset", List.of("add", "FTPGATE-divert4", CLIENT_V4 + ",tcp:40002,203.0.113.2", "timeout", "600")));

        assertThat(firewall("iptables", false, LIFETIME).start()).isEqualTo(3);
        assertThat(entries()).isEmpty();
        assertThat(firewall("iptables", false, LIFETIME).start()).isZero();
        assertThat(list("iptables", "-S")).filteredOn(IpsetRules::isSetRule).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"iptables", "iptables-legacy"})
    void stopLeavesNoRuleChainOrSetAndSoDoesAFreshProcessAfterACrash(String flavour) throws Exception {
        requireFlavour(flavour);
        Interception spec = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);
        IpsetFirewall firewall = firewall(flavour, true, LIFETIME);
        firewall.start();
        firewall.intercept(spec);
        firewall.apply(new DataLease(5, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40001));
        firewall.apply(new DataLease(5, Direction.OUTBOUND, ip(CLIENT_V6), ip(GATEWAY_V6), 20));
        firewall.apply(new DataLease(6, Direction.INBOUND, ip(CLIENT_V4), ip("203.0.113.2"), 40002, true));
        assertThat(list(binaries(flavour).get(0), "-t", "mangle", "-S"))
                .contains(TproxyRules.listed(sets.appendDivertRule(false, 0x1)));
        assertThat(entries()).hasSize(4);

        firewall.stop();
        firewall.stop();
        assertNothingLeft(flavour);

        // A crashed run's objects, removed by a fresh instance as --cleanup-firewall does.
        IpsetFirewall crashed = firewall(flavour, true, LIFETIME);
        crashed.start();
        crashed.intercept(spec);
        crashed.apply(new DataLease(7, Direction.INBOUND, ip(CLIENT_V4), ip(GATEWAY_V4), 40003));
        new IpsetFirewall("FTPGATE", List.of("ip", "netns", "exec", gateway), binaries(flavour).get(0),
                binaries(flavour).get(1), "ipset", "ip", TIMEOUT, true, LIFETIME).stop();
        assertNothingLeft(flavour);
    }

    // --- helpers ---

    private void assertNothingLeft(String flavour) throws IOException {
        for (String save : List.of(flavour + "-save", flavour.replace("iptables", "ip6tables") + "-save")) {
            assertThat(run(in(gateway, save, List.of())).stdout()).as(save).doesNotContainIgnoringCase("FTPGATE");
        }
        assertThat(setNames()).as("ipset list -name").isEmpty();
        for (String family : List.of("-4", "-6")) {
            assertThat(run(in(gateway, "ip", List.of(family, "rule", "show"))).stdout()).doesNotContain("lookup 100");
        }
    }

    private IpsetFirewall firewall(String flavour, boolean guardOutput, Duration lifetime) {
        List<String> binaries = binaries(flavour);
        IpsetFirewall firewall = new IpsetFirewall("FTPGATE", List.of("ip", "netns", "exec", gateway),
                binaries.get(0), binaries.get(1), "ipset", "ip", TIMEOUT, guardOutput, lifetime);
        firewalls.add(firewall);
        return firewall;
    }

    private static List<String> binaries(String flavour) {
        return VethNamespaces.binaries(flavour);
    }

    private static void requireFlavour(String flavour) {
        VethNamespaces.requireFlavour(flavour);
    }

    private List<String> setNames() throws IOException {
        return run(in(gateway, "ipset", List.of("list", "-name"))).stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    /** Every entry of every set, as {@code ipset save} prints it. */
    private List<String> entries() throws IOException {
        return run(in(gateway, "ipset", List.of("save"))).stdout().lines().filter(l -> l.startsWith("add ")).toList();
    }

    private List<String> list(String binary, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("-w", "5"));
        argv.addAll(List.of(args));
        return run(in(gateway, binary, argv)).stdout().lines().toList();
    }

    private static List<String> in(String ns, String binary, List<String> args) {
        return VethNamespaces.in(ns, binary, args);
    }

    private CommandRunner.Result run(List<String> argv) throws IOException {
        return namespaces.run(argv);
    }

    /** Whether the client namespace, from {@code from}, completes a handshake with the gateway's {@code host:port}. */
    private boolean connect(String host, int port, String from) throws Exception {
        return namespaces.connect(host, port, from);
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }
}
