package io.ftpgate.e2e;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shaded jar with {@code firewall.backend = nftables} on an nftables-only gateway
 * ({@link Topology.Kind#NFTABLES_GATEWAY}: input and forward policies drop, no iptables rule): a
 * pending data connection is one set element, for exactly the client, the port and the gateway's
 * address, and goes when the connection is made; the one rule ftpgate inserts at the top of the
 * admin's input chain is there while it runs; after {@code kill -9} the element expires by itself
 * (data.connect-timeout 10 s + 5 s), the next start removes what is left, and SIGTERM or
 * {@code --cleanup-firewall} leave the admin's ruleset byte for byte as it was.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(90)
class NftLeaseIT {

    /** Three refused probes of 2 s each must fit in one connect timeout. */
    private static final String SETTINGS = FtpGateDaemon.config("  firewall.backend = nftables\n  data.connect-timeout = 10s");
    private static final String MANAGED_RULE = "meta mark & 0x00800000 == 0x00800000 accept"
            + " comment \"ftpgate leases (inserted by ftpgate, table inet ftpgate)\"";
    private static final int ROUTING_TABLE = 100;

    private Topology topology;
    private GatewayRules rules;
    private FtpGateDaemon daemon;
    /** {@code nft list ruleset} before ftpgate ever ran: the admin's ruleset. */
    private String adminRuleset;

    @BeforeAll
    void setUp() {
        RootTools.requireRootAndTools("nft");
        Testbed.requireTools();
        topology = Topology.create(Topology.Kind.NFTABLES_GATEWAY);
        try {
            VsftpdServer.start(topology);
            rules = new GatewayRules(topology);
            adminRuleset = ruleset();
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @BeforeEach
    void daemonRunning() {
        if (daemon == null || !daemon.isAlive()) {
            daemon = FtpGateDaemon.start(topology, SETTINGS);
        }
    }

    @AfterAll
    void tearDown() {
        if (topology == null) {
            return;
        }
        try {
            if (daemon != null && daemon.isAlive()) {
                assertThat(daemon.stop()).isIn(0, 143);
                assertThat(rules.leftovers(ROUTING_TABLE)).as("after SIGTERM; log:\n%s", daemon.log()).isEmpty();
                assertThat(ruleset()).as("the admin's ruleset after SIGTERM").isEqualTo(adminRuleset);
            }
        } finally {
            topology.close();
        }
    }

    static Stream<Arguments> pending() {
        return Stream.of(
                Arguments.of(FtpGateDaemon.V4, "PASV", Topology.CLIENT_V4, Topology.THIRD_V4, Topology.GATEWAY_SERVER_SIDE_V4, "in4"),
                Arguments.of(FtpGateDaemon.V6, "EPSV", Topology.CLIENT_V6, Topology.THIRD_V6, Topology.GATEWAY_SERVER_SIDE_V6, "in6"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("pending")
    void aPendingDataConnectionIsOneElementForExactlyTheClientPortAndAddress(FtpEndpoint endpoint, String verb,
            String client, String third, String otherAddress, String set) {
        try (ProbeSession probe = ProbeSession.open(topology, endpoint)) {
            String reply = probe.command(verb);
            assertThat(reply).startsWith(verb.equals("PASV") ? "227" : "229");
            int port = ProbeSession.announcedPort(reply);
            assertThat(rules.leases()).as("leases while the data connection is pending").singleElement().asString()
                    .startsWith(set + " " + client + " . " + port + " . " + endpoint.host() + " timeout 15s expires ");

            assertThat(probe.connect(third, endpoint.host(), port)).as("a third host").startsWith("FAILED").contains("timed out");
            assertThat(probe.connect(client, otherAddress, port)).as("the client, to the gateway's other address")
                    .startsWith("FAILED").contains("timed out");
            assertThat(probe.connect(client, endpoint.host(), port + 1)).as("the client, to another port")
                    .startsWith("FAILED").contains("timed out");
            assertThat(probe.connect(client, endpoint.host(), port)).as("the client").isEqualTo("CONNECTED");
            rules.awaitNoLeases();
            assertThat(probe.command("NOOP")).startsWith("200");
        }
    }

    @Test
    void theOneInsertedRuleIsAtTheTopOfTheAdminsInputChainWhileRunning() {
        List<String> input = topology.exec(topology.gateway, "nft", "list", "chain", "inet", "filter", "input")
                .orThrow().stdout().lines().map(String::strip).toList();
        assertThat(input.get(3)).as("the first rule of inet filter input").isEqualTo(MANAGED_RULE);
        assertThat(input).filteredOn(line -> line.contains("ftpgate")).hasSize(1);
        assertThat(topology.exec(topology.gateway, "nft", "list", "chain", "inet", "filter", "forward").orThrow().stdout())
                .doesNotContain("ftpgate");
        assertThat(rules.saved()).as("iptables-save: no iptables rule at all").doesNotContain("-A ");
    }

    @Test
    void afterKill9TheElementExpiresByItselfAndCleanupFirewallRemovesTheRest() {
        int port;
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V4)) {
            String reply = probe.command("EPSV");
            assertThat(reply).startsWith("229");
            port = ProbeSession.announcedPort(reply);
            daemon.kill();
            assertThat(rules.leases()).as("the element a killed ftpgate left").hasSize(1);
            await("the element expires by itself (10 s connect timeout + 5 s)").atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofMillis(500)).until(() -> rules.leases().isEmpty());
            assertThat(probe.connect(Topology.CLIENT_V4, FtpGateDaemon.V4.host(), port)).as("the client, after expiry")
                    .startsWith("FAILED").contains("timed out");
        }
        assertThat(ruleset()).as("table and rule stay until cleanup").contains("table inet ftpgate", MANAGED_RULE);
        ExecResult cleanup = daemon.runOnce("--cleanup-firewall");
        assertThat(cleanup.ok()).as(cleanup.describe()).isTrue();
        assertThat(rules.leftovers(ROUTING_TABLE)).as("after --cleanup-firewall").isEmpty();
        assertThat(ruleset()).as("the admin's ruleset after --cleanup-firewall").isEqualTo(adminRuleset);
    }

    @Test
    void theNextStartRemovesTheElementsAndTheRuleAKilledRunLeft() {
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V6)) {
            assertThat(probe.command("EPSV")).startsWith("229");
            daemon.kill();
        }
        assertThat(rules.leases()).as("the element a killed ftpgate left").hasSize(1);
        daemon = FtpGateDaemon.start(topology, SETTINGS);
        assertThat(rules.leases()).as("elements after the restart; log:\n%s", daemon.log()).isEmpty();
        assertThat(daemon.log()).contains("removed 1 lease(s) left by an earlier run");
        assertThat(topology.exec(topology.gateway, "nft", "list", "chain", "inet", "filter", "input").orThrow().stdout())
                .as("one rule, not two").containsOnlyOnce("inserted by ftpgate");
    }

    private String ruleset() {
        return topology.exec(topology.gateway, "nft", "list", "ruleset").orThrow().stdout();
    }
}
