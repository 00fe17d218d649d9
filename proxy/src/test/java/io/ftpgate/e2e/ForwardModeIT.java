package io.ftpgate.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forward mode: ftpgate greets the client itself on 198.51.100.1:2121 / [2001:db8:1::1]:2121 and
 * carries it to the server named in {@code USER anonymous@host[:port]}. Two different vsftpd hosts
 * (different files, so a wrong server fails the checksum) are reached by name from both client
 * families, with curl and lftp in every mode they can use; a server outside
 * {@code destinations.allow}, and the gateway itself, are refused with 530 and a log line. The
 * gateway does not route and drops every new connection it has no rule for ({@link
 * Topology.Kind#GATEWAY}); after each session no lease is left, after SIGTERM nothing of ftpgate's.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ForwardModeIT {

    enum Op { LIST, RETR, STOR }

    private static final int PORT = 2121;
    private static final FtpEndpoint V4 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, PORT);
    private static final FtpEndpoint V6 = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V6, PORT);

    static final String SETTINGS = String.join("\n",
            "ftpgate {",
            "  listeners.fwd {",
            "    mode = forward",
            "    listen = [\"" + V4.authority() + "\", \"" + V6.authority() + "\"]",
            "  }",
            "  destinations.allow = [\"203.0.113.0/24\", \"2001:db8:2::/64\"]",
            "  firewall.backend = iptables",
            "  data.connect-timeout = 3s",
            "  shutdown.grace-period = 2s",
            "}",
            "");

    /** A client family, the server it names in USER, and which of the two servers that is. */
    record Route(String name, FtpEndpoint endpoint, boolean second) {
        @Override
        public String toString() {
            return name;
        }
    }

    private Testbed testbed;
    private TransferChecks primary;
    private TransferChecks second;

    @BeforeAll
    void setUp() {
        testbed = Testbed.start(Topology.Kind.GATEWAY, SETTINGS, true, "curl", "lftp");
        primary = new TransferChecks(testbed.topology, testbed.server);
        second = new TransferChecks(testbed.topology, testbed.secondServer);
    }

    @AfterAll
    void tearDown() {
        Testbed.close(testbed);
    }

    static Stream<Arguments> cases() {
        List<Route> routes = List.of(
                new Route("IPv4 client, USER anonymous@203.0.113.2", V4.as("anonymous@" + Topology.SERVER_V4), false),
                new Route("IPv6 client, USER anonymous@[2001:db8:2::2]", V6.as("anonymous@[" + Topology.SERVER_V6 + "]"), false),
                new Route("IPv4 client, USER anonymous@[2001:db8:2::3]:21",
                        V4.as("anonymous@[" + Topology.SECOND_SERVER_V6 + "]:21"), true),
                new Route("IPv6 client, USER anonymous@203.0.113.3:21", V6.as("anonymous@" + Topology.SECOND_SERVER_V4 + ":21"), true));
        List<Arguments> cases = new ArrayList<>();
        for (Route route : routes) {
            for (FtpClientTool tool : List.of(new Curl(), new Lftp())) {
                for (FtpMode mode : FtpMode.values()) {
                    if (tool.supports(mode, route.endpoint().ipv6())) {
                        for (Op op : Op.values()) {
                            cases.add(Arguments.of(route, tool, mode, op));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    @Order(1)
    @ParameterizedTest(name = "{0}: {1} {3} in {2}")
    @MethodSource("cases")
    void transfer(Route route, FtpClientTool tool, FtpMode mode, Op op) {
        TransferChecks checks = route.second() ? second : primary;
        String tag = "fwd-" + tool.name() + "-" + route.endpoint().host().replace(':', '_') + "-" + route.second() + "-" + mode;
        switch (op) {
            case LIST -> checks.list(tool, route.endpoint(), mode);
            case RETR -> checks.retrieve(tool, route.endpoint(), mode, tag);
            case STOR -> checks.store(tool, route.endpoint(), mode, tag);
        }
        testbed.rules.awaitNoLeases();
    }

    @Order(2)
    @Test
    void eachUserReachesTheServerItNames() {
        Curl curl = new Curl();
        for (Route route : List.of(
                new Route("first", V4.as("anonymous@" + Topology.SERVER_V4), false),
                new Route("second", V4.as("anonymous@" + Topology.SECOND_SERVER_V4), true))) {
            ExecResult result = curl.retrieve(testbed.topology, route.endpoint(), FtpMode.EPSV, VsftpdServer.SMALL,
                    testbed.topology.workDir().resolve("small-" + route.name() + ".txt"));
            assertThat(result.ok()).as(result.describe()).isTrue();
            assertThat(testbed.topology.workDir().resolve("small-" + route.name() + ".txt"))
                    .as("%s as %s", VsftpdServer.SMALL, route.endpoint().user())
                    .hasContent(route.second() ? "hello from the second server" : "hello from vsftpd");
        }
    }

    static Stream<Arguments> refusedDestinations() {
        return Stream.of(
                Arguments.of("192.0.2.1", "outside destinations.allow", "destination_denied"),
                Arguments.of(Topology.GATEWAY_CLIENT_SIDE_V4, "the gateway's client-side address", "destination_loop"),
                Arguments.of(Topology.GATEWAY_SERVER_SIDE_V4, "the gateway's own address inside the allowed network",
                        "destination_loop"),
                Arguments.of("[" + Topology.GATEWAY_SERVER_SIDE_V6 + "]", "the gateway's own IPv6 address inside the allowed network",
                        "destination_loop"));
    }

    @Order(3)
    @ParameterizedTest(name = "USER anonymous@{0} ({1}) is refused")
    @MethodSource("refusedDestinations")
    void refusedDestinationGets530AndALogLine(String host, String what, String reason) {
        String logBefore = testbed.gateway.log();
        ExecResult result = new Curl().list(testbed.topology, V4.as("anonymous@" + host), FtpMode.EPSV);
        assertThat(result.ok()).as("curl to %s:\n%s", what, result.describe()).isFalse();
        assertThat(result.stderr()).as("what curl saw:\n%s", result.describe()).contains("< 530 ");
        assertThat(testbed.gateway.log().substring(logBefore.length()))
                .as("gateway log after USER anonymous@%s", host)
                .containsPattern("session \\d+: destination \\S+:21 refused: " + reason);
        assertThat(metrics()).as("refusals counted").containsPattern("ftpgate_refused_total\\{.*reason=\"" + reason + "\".*\\} [1-9]");
        testbed.rules.awaitNoLeases();
    }

    @Order(4)
    @Test
    void sigtermLeavesNothingOfFtpgate() {
        int exit = testbed.gateway.stop();
        assertThat(exit).as("exit code after SIGTERM, log:\n%s", testbed.gateway.log()).isIn(0, 143);
        assertThat(testbed.rules.leftovers(100)).as("ftpgate's objects after SIGTERM").isEmpty();
    }

    @AfterEach
    void gatewayStillRunning(org.junit.jupiter.api.TestInfo info) {
        if (!info.getTestMethod().map(m -> m.getName().equals("sigtermLeavesNothingOfFtpgate")).orElse(false)) {
            testbed.gateway.assertAlive();
        }
    }

    private String metrics() {
        return testbed.topology.exec(testbed.topology.gateway, "curl", "-sS", "http://127.0.0.1:9121/metrics").orThrow().stdout();
    }
}
