package io.ftpgate.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * curl and lftp in the client namespace, ftpgate in the gateway namespace (which routes nothing
 * and drops every new connection it has no rule for), vsftpd in the server namespace: every
 * mode each client can use, straight through on IPv4 and IPv6 and across families. After each
 * session no lease may be left in ftpgate's chain.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayTransferIT {

    enum Op { LIST, RETR, STOR }

    record Route(String name, FtpEndpoint endpoint) {
        @Override
        public String toString() {
            return name;
        }
    }

    Testbed testbed;
    private TransferChecks checks;

    @BeforeAll
    void setUp() {
        testbed = startTestbed();
        checks = new TransferChecks(testbed.topology, testbed.server);
    }

    /**
     * The gateway under test: ftpgate with the iptables backend ({@link GatewayTransferIpsetIT}:
     * ipset), relaying with splice (the other end-to-end tests relay by copying, the default).
     */
    Testbed startTestbed() {
        return Testbed.start(Topology.Kind.GATEWAY, FtpGateDaemon.config("  data.relay = " + relay()), false, "curl", "lftp");
    }

    /** How the gateway under test relays data bytes: {@code splice} here. */
    String relay() {
        return "splice";
    }

    /** Every transfer here goes through the configured relay (splice needs the epoll transport). */
    @Test
    void dataConnectionsUseTheConfiguredRelay() {
        assertThat(testbed.gateway.log()).contains("data relay " + relay());
    }

    @AfterAll
    void tearDown() {
        Testbed.close(testbed);
    }

    /** Every route, client, mode and operation (an instance method: a subclass may measure a subset). */
    Stream<Arguments> cases() {
        return cases(List.of(
                new Route("IPv4", FtpGateDaemon.V4),
                new Route("IPv6", FtpGateDaemon.V6),
                new Route("IPv6 client to IPv4 server", FtpGateDaemon.V6_TO_V4),
                new Route("IPv4 client to IPv6 server", FtpGateDaemon.V4_TO_V6)), List.of(Op.values()));
    }

    static Stream<Arguments> cases(List<Route> routes, List<Op> ops) {
        List<Arguments> cases = new ArrayList<>();
        for (Route route : routes) {
            for (FtpClientTool tool : List.of(new Curl(), new Lftp())) {
                for (FtpMode mode : FtpMode.values()) {
                    if (!tool.supports(mode, route.endpoint().ipv6())) {
                        continue;
                    }
                    for (Op op : ops) {
                        cases.add(Arguments.of(route, tool, mode, op));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}: {1} {3} in {2}")
    @MethodSource("cases")
    void transfer(Route route, FtpClientTool tool, FtpMode mode, Op op) {
        String tag = tool.name() + "-" + route.endpoint().host().replace(':', '_') + "-" + route.endpoint().port() + "-" + mode;
        switch (op) {
            case LIST -> checks.list(tool, route.endpoint(), mode);
            case RETR -> checks.retrieve(tool, route.endpoint(), mode, tag);
            case STOR -> checks.store(tool, route.endpoint(), mode, tag);
        }
        testbed.rules.awaitNoLeases();
    }

    Stream<Arguments> sessionCases() {
        return Stream.of(
                Arguments.of(new Route("IPv4", FtpGateDaemon.V4), FtpMode.EPSV),
                Arguments.of(new Route("IPv4", FtpGateDaemon.V4), FtpMode.PORT),
                Arguments.of(new Route("IPv6", FtpGateDaemon.V6), FtpMode.EPRT),
                Arguments.of(new Route("IPv4 client to IPv6 server", FtpGateDaemon.V4_TO_V6), FtpMode.PASV));
    }

    /** One control session, four data connections: each gets its own lease, and none outlives it. */
    @ParameterizedTest(name = "{0}: lftp ls, get, put, ls in one session in {1}")
    @MethodSource("sessionCases")
    void severalTransfersInOneSession(Route route, FtpMode mode) throws Exception {
        Path got = Files.createTempFile(testbed.topology.workDir(), "session-get-", ".bin");
        String put = "session-" + route.endpoint().host().replace(':', '_') + "-" + route.endpoint().port() + "-" + mode + ".bin";
        Path source = testbed.server.root().resolve(VsftpdServer.BIG);
        ExecResult result = new Lftp().session(testbed.topology, route.endpoint(), mode,
                "ls", "get " + VsftpdServer.BIG + " -o " + got, "put " + source + " -o upload/" + put, "ls upload");
        assertThat(result.ok()).as(result.describe()).isTrue();
        assertThat(result.stdout()).as("both listings").contains(VsftpdServer.SMALL, put);
        assertThat(TransferChecks.sha256(got)).as("downloaded").isEqualTo(TransferChecks.sha256(source));
        assertThat(TransferChecks.sha256(testbed.server.uploadDir().resolve(put))).as("uploaded").isEqualTo(TransferChecks.sha256(source));
        testbed.rules.awaitNoLeases();
    }

    /** curl closes the data connection after the bytes it asked for, mid-transfer; the session must end cleanly. */
    @ParameterizedTest(name = "{0}: curl partial RETR (REST, early close) in {1}")
    @MethodSource("sessionCases")
    void partialDownloadClosesTheDataConnectionEarly(Route route, FtpMode mode) throws Exception {
        Path got = Files.createTempFile(testbed.topology.workDir(), "range-", ".bin");
        ExecResult result = new Curl().retrieveRange(testbed.topology, route.endpoint(), mode, VsftpdServer.BIG, got, 1000, 66_535);
        assertThat(result.ok()).as(result.describe()).isTrue();
        byte[] all = Files.readAllBytes(testbed.server.root().resolve(VsftpdServer.BIG));
        assertThat(Files.readAllBytes(got)).as("bytes 1000..66535").isEqualTo(Arrays.copyOfRange(all, 1000, 66_536));
        testbed.rules.awaitNoLeases();
    }

    @AfterEach
    void gatewayStillRunning() {
        testbed.gateway.assertAlive();
    }
}
