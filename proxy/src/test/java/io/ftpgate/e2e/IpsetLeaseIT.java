package io.ftpgate.e2e;

import java.time.Duration;
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
 * The shaded jar with {@code firewall.backend = ipset} in the gateway namespace (INPUT policy DROP):
 * a pending data connection is one set entry, for exactly the client, the port and the gateway's
 * address; the entry goes when the connection is made; after {@code kill -9} it expires by itself
 * (data.connect-timeout 10 s + 5 s), the next start removes what is left, and SIGTERM or
 * {@code --cleanup-firewall} leave no rule, chain or set. {@link NftLeaseIT} runs the same for
 * the nftables backend.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(90)
class IpsetLeaseIT {

    /** Three refused probes of 2 s each must fit in one connect timeout. */
    private static final String SETTINGS = FtpGateDaemon.config("  firewall.backend = ipset\n  data.connect-timeout = 10s");
    private static final int ROUTING_TABLE = 100;

    Topology topology;
    GatewayRules rules;
    FtpGateDaemon daemon;

    // What a subclass for another backend changes (NftLeaseIT).

    String settings() {
        return SETTINGS;
    }

    Topology.Kind kind() {
        return Topology.Kind.GATEWAY;
    }

    void requireBackendTools() {
        RootTools.requireRootAndTools("ipset");
    }

    /** How {@link GatewayRules#leases()} lists a pending passive data connection, up to its time left. */
    String pendingLease(boolean ipv6, String client, int port, String gatewayAddress) {
        return "add FTPGATE-in" + (ipv6 ? "6 " : "4 ") + client + ",tcp:" + port + "," + gatewayAddress + " timeout ";
    }

    /** After kill -9 and expiry: the backend's own objects are still there, for cleanup to remove. */
    void assertObjectsStayUntilCleanup() {
        assertThat(rules.sets()).as("the sets stay until cleanup").isNotEmpty();
    }

    /** Before ftpgate ever ran in the topology. */
    void rememberFirewallBeforeFtpgate() {
    }

    /** After SIGTERM or --cleanup-firewall, on top of {@link GatewayRules#leftovers} being empty. */
    void assertNothingElseLeft(String when) {
    }

    /** After a start that followed a killed run, on top of no lease being left. */
    void assertOneSetOfObjectsAfterRestart() {
    }

    @BeforeAll
    void setUp() {
        requireBackendTools();
        Testbed.requireTools();
        topology = Topology.create(kind());
        try {
            VsftpdServer.start(topology);
            rules = new GatewayRules(topology);
            rememberFirewallBeforeFtpgate();
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @BeforeEach
    void daemonRunning() {
        if (daemon == null || !daemon.isAlive()) {
            daemon = FtpGateDaemon.start(topology, settings());
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
                assertNothingElseLeft("after SIGTERM");
            }
        } finally {
            topology.close();
        }
    }

    static Stream<Arguments> pending() {
        return Stream.of(
                Arguments.of(FtpGateDaemon.V4, "PASV", Topology.CLIENT_V4, Topology.THIRD_V4, Topology.GATEWAY_SERVER_SIDE_V4),
                Arguments.of(FtpGateDaemon.V6, "EPSV", Topology.CLIENT_V6, Topology.THIRD_V6, Topology.GATEWAY_SERVER_SIDE_V6));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("pending")
    void aPendingDataConnectionIsOneEntryForExactlyTheClientPortAndAddress(FtpEndpoint endpoint, String verb,
            String client, String third, String otherAddress) {
        try (ProbeSession probe = ProbeSession.open(topology, endpoint)) {
            String reply = probe.command(verb);
            assertThat(reply).startsWith(verb.equals("PASV") ? "227" : "229");
            int port = ProbeSession.announcedPort(reply);
            assertThat(rules.leases()).as("leases while the data connection is pending").singleElement().asString()
                    .startsWith(pendingLease(endpoint.ipv6(), client, port, endpoint.host()));

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
    void afterKill9TheEntryExpiresByItselfAndCleanupFirewallRemovesTheRest() {
        int port;
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V4)) {
            String reply = probe.command("EPSV");
            assertThat(reply).startsWith("229");
            port = ProbeSession.announcedPort(reply);
            daemon.kill();
            assertThat(rules.leases()).as("the entry a killed ftpgate left").hasSize(1);
            await("the entry expires by itself (10 s connect timeout + 5 s)").atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofMillis(500)).until(() -> rules.leases().isEmpty());
            assertThat(probe.connect(Topology.CLIENT_V4, FtpGateDaemon.V4.host(), port)).as("the client, after expiry")
                    .startsWith("FAILED").contains("timed out");
        }
        assertObjectsStayUntilCleanup();
        ExecResult cleanup = daemon.runOnce("--cleanup-firewall");
        assertThat(cleanup.ok()).as(cleanup.describe()).isTrue();
        assertThat(rules.leftovers(ROUTING_TABLE)).as("after --cleanup-firewall").isEmpty();
        assertNothingElseLeft("after --cleanup-firewall");
    }

    @Test
    void theNextStartRemovesTheEntriesAKilledRunLeft() {
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V6)) {
            assertThat(probe.command("EPSV")).startsWith("229");
            daemon.kill();
        }
        assertThat(rules.leases()).as("the entry a killed ftpgate left").hasSize(1);
        daemon = FtpGateDaemon.start(topology, settings());
        assertThat(rules.leases()).as("entries after the restart; log:\n%s", daemon.log()).isEmpty();
        assertThat(daemon.log()).contains("removed 1 lease(s) left by an earlier run");
        assertOneSetOfObjectsAfterRestart();
    }
}
