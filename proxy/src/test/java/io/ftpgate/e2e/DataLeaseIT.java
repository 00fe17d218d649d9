package io.ftpgate.e2e;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the firewall lets through while a data connection is pending: one rule, for the client
 * that negotiated it and the announced port only; a third host is dropped. And what the gateway
 * refuses outright: active-mode addresses other than the client's own (FTP bounce, RFC 2577) and
 * privileged ports.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class DataLeaseIT {

    /** One family's view: where to connect, who the client is, who the third host is. */
    record Family(String name, FtpEndpoint gateway, String client, String third, String prefix) {
        @Override
        public String toString() {
            return name;
        }

        boolean ipv6() {
            return gateway.ipv6();
        }

        /** An active-mode command naming {@code host:port}: PORT for IPv4, EPRT for IPv6. */
        String activeCommand(String host, int port) {
            return ipv6()
                    ? "EPRT |2|" + host + "|" + port + "|"
                    : "PORT " + host.replace('.', ',') + "," + (port / 256) + "," + (port % 256);
        }
    }

    private static final Family V4 = new Family("IPv4", FtpGateDaemon.V4, Topology.CLIENT_V4, Topology.THIRD_V4, "/32");
    private static final Family V6 = new Family("IPv6", FtpGateDaemon.V6, Topology.CLIENT_V6, Topology.THIRD_V6, "/128");

    private Testbed testbed;
    private Topology topology;
    private GatewayRules rules;

    @BeforeAll
    void setUp() {
        testbed = Testbed.start(Topology.Kind.GATEWAY);
        topology = testbed.topology;
        rules = testbed.rules;
    }

    @AfterAll
    void tearDown() {
        Testbed.close(testbed);
    }

    @AfterEach
    void noLeaseLeftAndGatewayAlive() {
        rules.awaitNoLeases();
        testbed.gateway.assertAlive();
    }

    static Stream<Arguments> passiveCases() {
        return Stream.of(Arguments.of(V4, "PASV"), Arguments.of(V4, "EPSV"), Arguments.of(V6, "EPSV"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("passiveCases")
    void pendingPassiveConnectionOpensExactlyOneRuleForTheClient(Family family, String verb) {
        try (ProbeSession probe = ProbeSession.open(topology, family.gateway())) {
            String reply = probe.command(verb);
            assertThat(reply).as("reply to %s", verb).startsWith(verb.equals("PASV") ? "227" : "229");
            int port = ProbeSession.announcedPort(reply);

            List<String> leases = rules.leases();
            assertThat(leases).as("rules in %s while the data connection is pending", GatewayRules.CHAIN).hasSize(1);
            assertThat(leases.get(0))
                    .contains("-s " + family.client() + family.prefix())
                    .contains("-d " + family.gateway().host() + family.prefix())
                    .contains("--dport " + port)
                    .contains("ACCEPT");

            assertThat(probe.connect(family.third(), family.gateway().host(), port))
                    .as("a third host connecting to the announced port %d", port)
                    .startsWith("FAILED")
                    .contains("timed out");
            assertThat(probe.connect(family.client(), family.gateway().host(), port))
                    .as("the client itself connecting to the announced port %d", port)
                    .isEqualTo("CONNECTED");
            // The lease is spent once its one connection is accepted, while the session goes on.
            rules.awaitNoLeases();
            assertThat(probe.command("NOOP")).startsWith("200");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("passiveCases")
    void unusedPassiveLeaseIsRevokedAfterTheConnectTimeout(Family family, String verb) {
        try (ProbeSession probe = ProbeSession.open(topology, family.gateway())) {
            assertThat(probe.command(verb)).as("reply to %s", verb).startsWith(verb.equals("PASV") ? "227" : "229");
            assertThat(rules.leases()).as("rules while the data connection is pending").hasSize(1);
            // data.connect-timeout is 3 s in the generated config; the client never connects.
            await("lease revoked after data.connect-timeout").atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(rules.leases()).isEmpty());
            assertThat(probe.command("NOOP")).as("the session survives the timeout").startsWith("200");
        }
    }

    static Stream<Arguments> refusedActiveCases() {
        return Stream.of(
                Arguments.of(V4, "the third host", Topology.THIRD_V4, 40_000),
                Arguments.of(V4, "the FTP server", Topology.SERVER_V4, 25),
                Arguments.of(V4, "a privileged port of the client", Topology.CLIENT_V4, 20),
                Arguments.of(V6, "the third host", Topology.THIRD_V6, 40_000),
                Arguments.of(V6, "the FTP server", Topology.SERVER_V6, 25),
                Arguments.of(V6, "a privileged port of the client", Topology.CLIENT_V6, 20));
    }

    @ParameterizedTest(name = "{0} active mode naming {1}")
    @MethodSource("refusedActiveCases")
    void activeModeNamingAnotherHostOrPrivilegedPortIsRefused(Family family, String what, String host, int port) {
        try (ProbeSession probe = ProbeSession.open(topology, family.gateway())) {
            String command = family.activeCommand(host, port);
            String reply = probe.command(command);
            assertThat(reply).as("reply to %s", command).startsWith("5");
            assertThat(rules.leases()).as("rules after a refused %s", command).isEmpty();
            assertThat(probe.command("NOOP")).as("the session survives the refusal").startsWith("200");
        }
    }
}
