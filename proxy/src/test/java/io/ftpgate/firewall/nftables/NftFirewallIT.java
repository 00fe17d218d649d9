package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.iptables.VethNamespaces;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The nftables backend against real {@code nft} in two fresh network namespaces joined by a veth
 * pair: a gateway ({@code 198.51.100.1}, {@code 2001:db8:1::1}) whose only firewall is the admin's
 * native ruleset {@link Topology#NFT_RULESET} (input and forward policies drop; no iptables rule at
 * all), and a client ({@code .2}, {@code ::2}, and a third host's {@code .3}, {@code ::3}). Nothing
 * outside the two namespaces is touched; both are deleted after every test, whatever happened.
 */
@Tag("netns")
class NftFirewallIT {

    private static final String GATEWAY_V4 = "198.51.100.1";
    private static final String CLIENT_V4 = "198.51.100.2";
    private static final String THIRD_V4 = "198.51.100.3";
    private static final String GATEWAY_V6 = "2001:db8:1::1";
    private static final String CLIENT_V6 = "2001:db8:1::2";
    private static final String THIRD_V6 = "2001:db8:1::3";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    /** nft lists it as {@code timeout 50s} (60 s would be {@code 1m}). */
    private static final Duration LIFETIME = Duration.ofSeconds(50);
    private static final List<String> HOOK_CHAINS = List.of("inet filter input");

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, false);
    private final List<NftFirewall> firewalls = new ArrayList<>();
    private VethNamespaces namespaces;

    @BeforeEach
    void createNamespaces() throws Exception {
        RootTools.requireRootAndTools("ip", "nft");
        namespaces = VethNamespaces.create("nft", List.of(GATEWAY_V4, GATEWAY_V6), List.of(CLIENT_V4, THIRD_V4, CLIENT_V6, THIRD_V6));
        nftScript(Topology.NFT_RULESET);
    }

    @AfterEach
    void deleteNamespaces() {
        for (NftFirewall firewall : firewalls) {
            try {
                firewall.stop();
            } catch (Exception ignored) {
                // the namespace goes anyway; this only ends the nft process
            }
        }
        if (namespaces != null) {
            namespaces.close();
        }
    }

    @Test
    void startCreatesTheDocumentedTableAndOneRuleAtTheTopOfTheAdminsChain() throws Exception {
        assertThat(firewall(true, LIFETIME).start()).isZero();
        assertThat(firewall(true, LIFETIME).start()).as("a second start").isZero();

        assertThat(nft("list", "table", "inet", "ftpgate")).isEqualTo(rules.tableDefinition());
        List<String> input = nft("list", "chain", "inet", "filter", "input").lines().map(String::strip).toList();
        assertThat(input.get(3)).as("first rule of the admin's input chain").isEqualTo(rules.hookRule(rules.managedComment()));
        assertThat(input).filteredOn(line -> line.contains("ftpgate")).hasSize(1);
    }

    @Test
    void stopLeavesTheAdminsRulesetByteForByteAsItWas() throws Exception {
        String before = nft("list", "ruleset");
        NftFirewall firewall = firewall(true, LIFETIME);
        firewall.start();
        firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        assertThat(nft("list", "ruleset")).contains("table inet ftpgate", rules.managedComment());
        firewall.stop();
        assertThat(nft("list", "ruleset")).isEqualTo(before);
        firewall.stop(); // idempotent
        assertThat(nft("list", "ruleset")).isEqualTo(before);
    }

    @ParameterizedTest
    @ValueSource(strings = {"IPv4", "IPv6"})
    void aLeaseOpensExactlyPeerPortAndAddressUntilRevoked(String family) throws Exception {
        boolean v6 = family.equals("IPv6");
        String gatewayAddress = v6 ? GATEWAY_V6 : GATEWAY_V4;
        String peer = v6 ? CLIENT_V6 : CLIENT_V4;
        String third = v6 ? THIRD_V6 : THIRD_V4;
        NftFirewall firewall = firewall(true, LIFETIME);
        firewall.start();
        namespaces.listen(40001);
        namespaces.listen(40002);
        assertThat(namespaces.connect(gatewayAddress, 40001, peer)).as("before the lease").isFalse();

        DataLease lease = lease(peer, gatewayAddress, 40001);
        firewall.apply(lease);
        assertThat(elements()).singleElement().asString()
                .startsWith((v6 ? "in6 " : "in4 ") + peer + " . 40001 . " + gatewayAddress + " timeout 50s expires ");
        assertThat(namespaces.connect(gatewayAddress, 40002, peer)).as("another port").isFalse();
        assertThat(namespaces.connect(gatewayAddress, 40001, third)).as("a third host").isFalse();
        assertThat(namespaces.connect(gatewayAddress, 40001, peer)).as("the peer").isTrue();

        firewall.revoke(lease);
        assertThat(elements()).isEmpty();
        assertThat(namespaces.connect(gatewayAddress, 40001, peer)).as("after the revoke").isFalse();
        firewall.revoke(lease); // a missing element is no error
    }

    @Test
    void queuedChangesAreOneTransactionAndEachHasItsResult() throws Exception {
        NftFirewall firewall = firewall(true, LIFETIME);
        firewall.start();
        DataLease a = lease(CLIENT_V4, GATEWAY_V4, 40001);
        DataLease b = lease(CLIENT_V6, GATEWAY_V6, 40002);
        DataLease c = lease(THIRD_V4, GATEWAY_V4, 40003);
        firewall.apply(c);
        assertThat(firewall.change(List.of(LeaseChange.apply(a), LeaseChange.apply(b), LeaseChange.revoke(c))))
                .containsExactly(null, null, null);
        assertThat(elements()).hasSize(2).anyMatch(e -> e.startsWith("in4 198.51.100.2 . 40001 . 198.51.100.1 "))
                .anyMatch(e -> e.startsWith("in6 2001:db8:1::2 . 40002 . 2001:db8:1::1 "));
        assertThat(firewall.change(List.of(LeaseChange.revoke(a), LeaseChange.revoke(b)))).containsExactly(null, null);
        assertThat(elements()).isEmpty();
    }

    @Test
    void elementsExpireByThemselves() throws Exception {
        NftFirewall firewall = firewall(true, Duration.ofSeconds(2));
        firewall.start();
        firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        assertThat(elements()).hasSize(1);
        await("the element expires (2 s)").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> elements().isEmpty());
    }

    @Test
    void theNextStartRemovesOrphanedElementsAndRules() throws Exception {
        NftFirewall crashed = firewall(true, LIFETIME);
        crashed.start();
        crashed.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        crashed.apply(lease(CLIENT_V6, GATEWAY_V6, 40001));
        // no stop(): the process "crashed" (its nft -i ends with the test's namespace)
        NftFirewall next = firewall(true, LIFETIME);
        assertThat(next.start()).isEqualTo(2);
        assertThat(elements()).isEmpty();
        assertThat(nft("list", "chain", "inet", "filter", "input")).containsOnlyOnce(rules.managedComment());
    }

    @Test
    void withoutManagementOnlyTheTableAndTheAdminsOwnCopyOfTheRuleWorksAndStays() throws Exception {
        NftFirewall firewall = firewall(false, LIFETIME);
        firewall.start();
        assertThat(nft("list", "chain", "inet", "filter", "input")).doesNotContain("ftpgate");
        namespaces.listen(40001);
        firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        assertThat(namespaces.connect(GATEWAY_V4, 40001, CLIENT_V4)).as("marked, but the admin's chain drops it").isFalse();

        // What --print-firewall tells the admin to add.
        assertThat(firewall.describeLeaseObjects()).contains(rules.hookRule(rules.adminComment()));
        nftScript("insert rule inet filter input " + rules.hookRule(rules.adminComment()) + "\n");
        assertThat(namespaces.connect(GATEWAY_V4, 40001, CLIENT_V4)).as("with the admin's rule").isTrue();
        firewall.stop();
        assertThat(nft("list", "chain", "inet", "filter", "input")).contains(rules.adminComment());
    }

    @Test
    void withGuardedOutputAnOutboundLeaseOpensExactlyThePeersPortThroughADroppingOutputChain() throws Exception {
        nftScript("""
                add chain inet filter output { type filter hook output priority filter; policy drop; }
                add rule inet filter output oif "lo" accept
                add rule inet filter output ct state established accept
                add rule inet filter output meta l4proto ipv6-icmp accept
                """);
        NftRules guarded = new NftRules("ftpgate", -10, 0x00800000L, true);
        NftFirewall firewall = new NftFirewall(guarded, List.of("inet filter input", "inet filter output"), true, prefix(),
                "nft", TIMEOUT, LIFETIME);
        firewalls.add(firewall);
        firewall.start();
        assertThat(nft("list", "table", "inet", "ftpgate")).isEqualTo(guarded.tableDefinition());
        namespaces.listenIn(namespaces.client, 40020);
        namespaces.listenIn(namespaces.client, 40021);
        assertThat(namespaces.connectFrom(namespaces.gateway, CLIENT_V4, 40020, GATEWAY_V4)).as("before the lease").isFalse();

        DataLease out = new DataLease(8, Direction.OUTBOUND, InetAddress.getByName(CLIENT_V4),
                InetAddress.getByName(GATEWAY_V4), 40020);
        firewall.apply(out);
        assertThat(nft("list", "set", "inet", "ftpgate", "out4")).contains("elements = { 198.51.100.2 . 40020 . 198.51.100.1 timeout 50s");
        assertThat(namespaces.connectFrom(namespaces.gateway, THIRD_V4, 40020, GATEWAY_V4)).as("another peer").isFalse();
        assertThat(namespaces.connectFrom(namespaces.gateway, CLIENT_V4, 40021, GATEWAY_V4)).as("another port").isFalse();
        assertThat(namespaces.connectFrom(namespaces.gateway, CLIENT_V4, 40020, GATEWAY_V4)).as("the lease").isTrue();
        firewall.revoke(out);
        assertThat(namespaces.connectFrom(namespaces.gateway, CLIENT_V4, 40020, GATEWAY_V4)).as("after the revoke").isFalse();
    }

    @Test
    void anOutputChainWithoutGuardedOutputIsRefusedAtStart() throws Exception {
        NftFirewall firewall = firewall(true, LIFETIME, List.of("inet filter input", "inet filter output"));
        assertThatThrownBy(firewall::start).isInstanceOf(FirewallException.class)
                .hasMessageContaining("inet filter output hooks output, but firewall.guard-output is false");
    }

    @Test
    void aChainThatSeesPacketsBeforeFtpgateIsRefusedAtStart() throws Exception {
        nftScript("table inet early {\n\tchain input {\n\t\ttype filter hook input priority filter - 20; policy drop;\n\t}\n}\n");
        NftFirewall firewall = new NftFirewall(rules, List.of("inet early input"), true, prefix(), "nft", TIMEOUT, LIFETIME);
        firewalls.add(firewall);
        assertThatThrownBy(firewall::start).isInstanceOf(FirewallException.class)
                .hasMessageContaining("inet early input has priority -20, not above ftpgate's -10");
        NftFirewall missing = firewall(true, LIFETIME, List.of("inet filter nosuch"));
        assertThatThrownBy(missing::start).isInstanceOf(FirewallException.class)
                .hasMessageContaining("no base chain inet filter nosuch");
    }

    @Test
    void afterTheAdminsFlushRulesetTheNextLeasePutsTableAndRuleBackOrFailsWithTheReason() throws Exception {
        NftFirewall firewall = firewall(true, LIFETIME);
        firewall.start();
        namespaces.listen(40001);
        nftScript("flush ruleset\n"); // an admin's "nft -f" that flushes everything and fails midway
        assertThatThrownBy(() -> firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001)))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("nft refused add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1")
                .hasMessageContaining("Error: ");

        nftScript("flush ruleset\n" + Topology.NFT_RULESET); // the admin's whole file, as systemctl reload nftables does
        firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        assertThat(elements()).hasSize(1);
        assertThat(nft("list", "chain", "inet", "filter", "input")).containsOnlyOnce(rules.managedComment());
        assertThat(namespaces.connect(GATEWAY_V4, 40001, CLIENT_V4)).as("through the restored rule").isTrue();
    }

    @Test
    void theCheckPutsBackTheRuleAReloadOfTheAdminsTableRemovedAndKeepsTheLiveLeases() throws Exception {
        NftFirewall firewall = firewall(true, LIFETIME);
        firewall.start();
        namespaces.listen(40001);
        firewall.apply(lease(CLIENT_V4, GATEWAY_V4, 40001));
        assertThat(firewall.restoreMissing()).as("nothing missing").isEmpty();

        // firewall-cmd --reload and "flush table" rebuild only the admin's table.
        nftScript("delete table inet filter\n" + Topology.NFT_RULESET);
        assertThat(nft("list", "chain", "inet", "filter", "input")).doesNotContain(rules.managedComment());
        assertThat(namespaces.connect(GATEWAY_V4, 40001, CLIENT_V4)).as("leased, but the rule is gone").isFalse();

        assertThat(firewall.restoreMissing()).containsExactly("rule in inet filter input");
        assertThat(nft("list", "chain", "inet", "filter", "input")).containsOnlyOnce(rules.managedComment());
        assertThat(elements()).as("the live lease stayed").hasSize(1);
        assertThat(namespaces.connect(GATEWAY_V4, 40001, CLIENT_V4)).as("through the restored rule").isTrue();

        nftScript("flush ruleset\n" + Topology.NFT_RULESET); // systemctl reload nftables
        assertThat(firewall.restoreMissing()).containsExactly("table inet ftpgate", "rule in inet filter input");
        assertThat(nft("list", "table", "inet", "ftpgate")).isEqualTo(rules.tableDefinition());
        assertThat(firewall.restoreMissing()).as("all in place again").isEmpty();

        nftScript("delete table inet filter\n");
        assertThatThrownBy(firewall::restoreMissing).as("the admin's chain is gone").isInstanceOf(FirewallException.class)
                .hasMessageContaining("no base chain inet filter input");
    }

    @Test
    void interceptionIsPartOfTheTableWithItsRoutingAndAStopInAFreshProcessRemovesBoth() throws Exception {
        Interception spec = new Interception(0x1, 100, List.of("v0"), List.of("198.51.100.0/24", "2001:db8:1::/64"),
                List.of(21), 2121);
        NftFirewall crashed = firewall(true, LIFETIME);
        crashed.start();
        crashed.intercept(spec);
        crashed.intercept(spec); // idempotent
        assertThat(nft("list", "table", "inet", "ftpgate")).isEqualTo(rules.tableDefinition(spec));
        for (String family : List.of("-4", "-6")) {
            assertThat(namespaces.inGateway("ip", List.of(family, "rule", "show")).stdout())
                    .containsOnlyOnce("fwmark 0x1/0x1 lookup 100");
            assertThat(namespaces.inGateway("ip", List.of(family, "route", "show", "table", "100")).stdout())
                    .startsWith("local ");
        }
        DataLease diverted = new DataLease(7, Direction.INBOUND, InetAddress.getByName(CLIENT_V4),
                InetAddress.getByName("203.0.113.2"), 40001, true);
        crashed.apply(diverted);
        assertThat(nft("list", "set", "inet", "ftpgate", "div4")).contains("198.51.100.2 . 40001 . 203.0.113.2 timeout");
        assertThat(nft("list", "set", "inet", "ftpgate", "in4")).contains("198.51.100.2 . 40001 . 203.0.113.2 timeout");
        crashed.revoke(diverted);
        assertThat(nft("-t", "list", "table", "inet", "ftpgate")).doesNotContain("elements");

        String before = nft("list", "ruleset");
        NftFirewall fresh = firewall(true, LIFETIME);
        fresh.stop();
        assertThat(nft("list", "ruleset")).doesNotContain("ftpgate");
        for (String family : List.of("-4", "-6")) {
            assertThat(namespaces.inGateway("ip", List.of(family, "rule", "show")).stdout()).doesNotContain("lookup 100");
            assertThat(namespaces.inGateway("ip", List.of(family, "route", "show", "table", "100")).stdout()).isEmpty();
        }
        assertThat(before).contains("tproxy ip to :2121");
    }

    @Test
    void theKernelPathIsPartOfTheTableAsDocumented() throws Exception {
        NftFirewall inputOnly = firewall(true, LIFETIME);
        inputOnly.start();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> inputOnly.prepareForwarding(40000, 40999))
                .hasMessageContaining("names no chain of hook forward");
        inputOnly.stop();
        NftFirewall firewall = firewall(true, LIFETIME, List.of("inet filter input", "inet filter forward"));
        firewall.start();
        firewall.prepareForwarding(40000, 40999);
        String listed = nft("list", "table", "inet", "ftpgate");
        assertThat(listed).isEqualTo(rules.tableDefinition(null, new int[] {40000, 40999}, 50));
        // --print-firewall with data.path = kernel: the table exactly as nft lists it, and the rule for each chain.
        List<String> described = firewall.describeLeaseObjects(40000, 40999);
        assertThat(String.join("\n", described) + "\n").contains(listed)
                .contains(rules.insertHookRule(NftListing.HookChain.parse("inet filter forward")));
        io.ftpgate.firewall.ForwardLease lease = new io.ftpgate.firewall.ForwardLease(3, InetAddress.getByName(CLIENT_V4),
                InetAddress.getByName(GATEWAY_V4), 40017, InetAddress.getByName("203.0.113.2"), 30000,
                InetAddress.getByName("203.0.113.1"));
        firewall.applyForward(lease);
        assertThat(nft("list", "map", "inet", "ftpgate", "fwd4")).contains("198.51.100.2 . 198.51.100.1 . 40017 timeout 50s");
        assertThat(firewall.forwardConnected(lease)).as("no connection yet").isFalse();
        firewall.revokeForward(lease);
        firewall.revokeForward(lease); // idempotent
        assertThat(nft("-t", "list", "table", "inet", "ftpgate")).doesNotContain("elements");
        firewall.stop();
        assertThat(nft("list", "ruleset")).doesNotContain("ftpgate");
    }

    private NftFirewall firewall(boolean manage, Duration lifetime) {
        return firewall(manage, lifetime, HOOK_CHAINS);
    }

    private NftFirewall firewall(boolean manage, Duration lifetime, List<String> chains) {
        NftFirewall firewall = new NftFirewall(rules, chains, manage, prefix(), "nft", TIMEOUT, lifetime);
        firewalls.add(firewall);
        return firewall;
    }

    private List<String> prefix() {
        return List.of("ip", "netns", "exec", namespaces.gateway);
    }

    private static DataLease lease(String peer, String local, int port) throws Exception {
        return new DataLease(7, Direction.INBOUND, InetAddress.getByName(peer), InetAddress.getByName(local), port);
    }

    private String nft(String... args) throws Exception {
        return namespaces.inGateway("nft", List.of(args)).stdout();
    }

    private void nftScript(String script) throws Exception {
        namespaces.run("ip", "netns", "exec", namespaces.gateway, "sh", "-c", "printf '%s' \"$0\" | nft -f -", script);
    }

    /** The elements of ftpgate's sets, {@code SET ELEMENT}, as nft lists them. */
    private List<String> elements() throws Exception {
        List<String> elements = new ArrayList<>();
        for (String set : List.of("in4", "in6")) {
            String listing = nft("list", "set", "inet", "ftpgate", set);
            int start = listing.indexOf("elements = {");
            if (start < 0) {
                continue;
            }
            String inner = listing.substring(start + "elements = {".length(), listing.indexOf('}', start));
            for (String element : inner.split(",")) {
                elements.add(set + " " + element.strip().replaceAll("\\s+", " "));
            }
        }
        return elements;
    }
}
