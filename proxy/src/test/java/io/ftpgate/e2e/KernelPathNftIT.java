package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.RootTools;
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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link KernelPathIT}'s cases with {@code firewall.backend = nftables} on an nftables-only
 * forwarding gateway ({@link Topology.Kind#NFTABLES_FORWARDING_GATEWAY}: it routes, the admin's
 * input and forward chains drop, forward everything, no iptables rule at all). A lease is two map
 * elements ({@code fwd4}, {@code snat4}); the kernel records its one connection in {@code used4}.
 * The bytes never pass ftpgate; a lease admits exactly one connection; the deadline removes unused
 * elements; after kill -9 the elements expire by themselves and a restart removes the rest; SIGTERM
 * leaves nothing.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class KernelPathNftIT {

    static final String SETTINGS = FtpGateDaemon.config("""
              data.path = kernel
              firewall.backend = nftables
              firewall.nftables.hook-chains = ["inet filter input", "inet filter forward"]
            """);

    enum Op { LIST, RETR, STOR }

    private Testbed testbed;
    private TransferChecks checks;

    @BeforeAll
    void setUp() {
        RootTools.requireRootAndTools("nft");
        testbed = Testbed.start(Topology.Kind.NFTABLES_FORWARDING_GATEWAY, SETTINGS, false, "curl", "lftp", "conntrack");
        checks = new TransferChecks(testbed.topology, testbed.server);
    }

    @AfterAll
    void tearDown() {
        Testbed.close(testbed);
    }

    @AfterEach
    void noElementLeftAndGatewayAlive() {
        if (testbed.gateway.isAlive()) {
            testbed.rules.awaitNoLeasesAnywhere();
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("IPv4", new Curl(), FtpMode.PASV, Op.RETR, FtpGateDaemon.V4),
                Arguments.of("IPv4", new Lftp(), FtpMode.EPSV, Op.STOR, FtpGateDaemon.V4),
                Arguments.of("IPv4", new Curl(), FtpMode.EPSV, Op.LIST, FtpGateDaemon.V4),
                Arguments.of("IPv6", new Curl(), FtpMode.EPSV, Op.RETR, FtpGateDaemon.V6),
                Arguments.of("IPv6", new Lftp(), FtpMode.EPSV, Op.STOR, FtpGateDaemon.V6));
    }

    @Test
    @Order(1)
    void onlyNftablesForwards() {
        assertThat(testbed.gateway.log()).contains("firewall nftables", "data path: kernel");
        assertThat(testbed.rules.saved()).as("iptables-save").doesNotContain("-A ");
        assertThat(testbed.topology.exec(testbed.topology.gateway, "nft", "list", "chain", "inet", "filter", "forward")
                .orThrow().stdout()).contains("policy drop;", "inserted by ftpgate");
    }

    @ParameterizedTest(name = "{0}: {1} {3} in {2}")
    @MethodSource("cases")
    @Order(2)
    void transferIsForwardedByTheKernel(String family, FtpClientTool tool, FtpMode mode, Op op, FtpEndpoint endpoint) {
        String tag = "nftkernel-" + tool.name() + "-" + family + "-" + mode;
        double relayedBefore = KernelPathIT.metric(testbed, "ftpgate_relayed_bytes_total");
        switch (op) {
            case LIST -> checks.list(tool, endpoint, mode);
            case RETR -> checks.retrieve(tool, endpoint, mode, tag);
            case STOR -> checks.store(tool, endpoint, mode, tag);
        }
        String verb = op.name();
        testbed.gateway.awaitLog(verb);
        assertThat(testbed.gateway.log()).as("the transfer log line")
                .containsPattern("transfer client=\\S+ server=\\S+ \\w+ " + verb + " .* bytes=unknown .*path=kernel completed");
        assertThat(KernelPathIT.metric(testbed, "ftpgate_relayed_bytes_total") - relayedBefore).as("bytes relayed by ftpgate").isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.ftpgate.e2e.KernelPathIT#passiveProbes")
    @Order(3)
    void aLeaseAdmitsOneConnectionOnly(String name, FtpEndpoint endpoint, String verb, String client, String third) {
        try (ProbeSession probe = ProbeSession.open(testbed.topology, endpoint)) {
            int port = ProbeSession.announcedPort(probe.command(verb));
            String v = endpoint.ipv6() ? "6" : "4";
            String key = client + " . " + endpoint.host() + " . " + port;
            String server = endpoint.ipv6() ? Topology.SERVER_V6 : Topology.SERVER_V4;
            String gatewayServerSide = endpoint.ipv6() ? Topology.GATEWAY_SERVER_SIDE_V6 : Topology.GATEWAY_SERVER_SIDE_V4;
            List<String> elements = testbed.rules.nftElements().stream()
                    .map(e -> e.replaceFirst(" timeout \\S+ expires \\S+", "")).sorted().toList();
            assertThat(elements).as("the lease's elements").hasSize(2);
            assertThat(elements.get(0)).as("DNAT").matches(java.util.regex.Pattern.quote("fwd" + v + " " + key + " : " + server + " . ") + "\\d+");
            assertThat(elements.get(1)).as("SNAT").isEqualTo("snat" + v + " " + key + " : " + gatewayServerSide);
            assertThat(probe.connect(third, endpoint.host(), port)).as("a third host").startsWith("FAILED");
            assertThat(probe.open(client, endpoint.host(), port)).as("the client's first connection").isEqualTo("CONNECTED");
            assertThat(probe.connect(client, endpoint.host(), port)).as("the client's second connection to port %d", port)
                    .startsWith("FAILED").contains("timed out");
            assertThat(probe.retrieve(VsftpdServer.BIG)).as("RETR over the first connection")
                    .startsWith("RETRIEVED " + 3 * 1024 * 1024 + " "
                            + TransferChecks.sha256(testbed.server.root().resolve(VsftpdServer.BIG)) + " 226");
        }
    }

    @Test
    @Order(4)
    void deadlineRemovesUnusedElements() {
        try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
            int port = ProbeSession.announcedPort(probe.command("EPSV"));
            assertThat(testbed.rules.nftElements()).as("elements while the connection is pending").hasSize(2);
            await("elements removed after data.connect-timeout (3 s)").atMost(Duration.ofSeconds(8))
                    .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> assertThat(testbed.rules.nftElements()).isEmpty());
            assertThat(probe.connect(Topology.CLIENT_V4, FtpGateDaemon.V4.host(), port)).as("the client after the deadline")
                    .startsWith("FAILED");
            assertThat(probe.command("NOOP")).startsWith("200");
        }
    }

    @Test
    @Order(5)
    void afterKill9TheElementsExpireARestartRemovesTheRestAndSigtermLeavesNothing() {
        try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
            assertThat(probe.command("EPSV")).startsWith("229");
            testbed.gateway.kill();
        }
        assertThat(testbed.rules.nftElements()).as("what a killed ftpgate left").hasSize(2);
        await("the elements expire by themselves (3 s + 5 s)").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(500)).until(() -> testbed.rules.nftElements().isEmpty());
        FtpGateDaemon restarted = FtpGateDaemon.start(testbed.topology, SETTINGS);
        try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V6)) {
            assertThat(probe.command("EPSV")).startsWith("229");
            assertThat(testbed.rules.nftElements()).as("a pending IPv6 lease").hasSize(2);
            assertThat(restarted.stop()).as("exit code after SIGTERM, log:\n%s", restarted.log()).isIn(0, 143);
        }
        assertThat(testbed.rules.leftovers(100)).as("ftpgate's objects after SIGTERM").isEmpty();
        assertThat(testbed.topology.exec(testbed.topology.gateway, "nft", "list", "ruleset").orThrow().stdout().strip())
                .as("the admin's ruleset as it was").isEqualTo(Topology.NFT_RULESET.strip());
    }
}
