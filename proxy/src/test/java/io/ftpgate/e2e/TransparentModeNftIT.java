package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.GatewayRules;
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
 * The transparent subset of {@link TransparentModeIT} (that of its ipset backend) with
 * {@code firewall.backend = nftables} on an nftables-only routing gateway
 * ({@link Topology.Kind#NFTABLES_ROUTING_GATEWAY}: the admin's input and forward chains drop, no
 * iptables rule at all): the interception is ftpgate's own table's prerouting chain, each diverted
 * data connection an element of {@code div4}/{@code div6} and of {@code in4}/{@code in6}. After
 * SIGTERM nothing of ftpgate's may be left (table, inserted rule, ip rule, route); after kill -9,
 * {@code --cleanup-firewall} removes it all.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
class TransparentModeNftIT {

    enum Op { LIST, RETR, STOR }

    private static final int ROUTING_TABLE = 100;
    private static final FtpEndpoint SERVER_V4 = new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT);
    private static final FtpEndpoint SERVER_V6 = new FtpEndpoint(Topology.SERVER_V6, VsftpdServer.PORT);

    private Topology topology;
    private TransferChecks checks;
    private GatewayRules rules;
    private FtpGateDaemon daemon;

    @BeforeAll
    void setUp() {
        RootTools.requireRootAndTools("nft");
        Testbed.requireTools("curl", "lftp");
        topology = Topology.create(Topology.Kind.NFTABLES_ROUTING_GATEWAY);
        try {
            VsftpdServer server = VsftpdServer.start(topology);
            checks = new TransferChecks(topology, server);
            rules = new GatewayRules(topology);
            daemon = FtpGateDaemon.start(topology, settings());
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @AfterAll
    void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    @AfterEach
    void gatewayStillRunning() {
        if (daemon != null && !daemon.isAlive()) {
            return; // the kill -9 case ends the daemon on purpose
        }
        daemon.assertAlive();
    }

    static String settings() {
        return TransparentModeIT.settings("firewall.backend = nftables");
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(SERVER_V4, new Curl(), FtpMode.PASV, Op.RETR),
                Arguments.of(SERVER_V4, new Lftp(), FtpMode.EPSV, Op.STOR),
                Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.LIST),
                Arguments.of(SERVER_V6, new Curl(), FtpMode.EPSV, Op.RETR),
                Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPRT, Op.STOR));
    }

    @Test
    @Order(1)
    void onlyNftablesInterceptsAndTheTableIsWhatPrintFirewallShows() {
        assertThat(daemon.log()).contains("firewall nftables");
        assertThat(rules.saved()).as("iptables-save").doesNotContain("-A ");
        String table = topology.exec(topology.gateway, "nft", "list", "table", "inet", "ftpgate").orThrow().stdout();
        assertThat(table).contains("chain prerouting", "tproxy ip to :2121", "tproxy ip6 to :2121", "set div4", "set div6");
        Path config = FtpGateDaemon.writeConfig(topology, settings());
        ExecResult printed = FtpGateDaemon.run(topology, "--config", config.toString(), "--print-firewall");
        assertThat(printed.ok()).as(printed.describe()).isTrue();
        assertThat(printed.stdout()).as("--print-firewall shows the table nft lists").contains(table)
                .contains("ip -4 rule add fwmark 0x1/0x1 lookup " + ROUTING_TABLE,
                        "ip -6 route replace local ::/0 dev lo table " + ROUTING_TABLE);
        for (String family : List.of("-4", "-6")) {
            assertThat(topology.exec(topology.gateway, "ip", family, "rule", "show").orThrow().stdout())
                    .containsOnlyOnce("fwmark 0x1/0x1 lookup " + ROUTING_TABLE);
        }
    }

    @ParameterizedTest(name = "{0}: {1} {3} in {2}")
    @MethodSource("cases")
    @Order(2)
    void transfer(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op) {
        String tag = "nft-" + tool.name() + "-" + endpoint.host().replace(':', '_') + "-" + mode;
        switch (op) {
            case LIST -> checks.list(tool, endpoint, mode);
            case RETR -> checks.retrieve(tool, endpoint, mode, tag);
            case STOR -> checks.store(tool, endpoint, mode, tag);
        }
        rules.awaitNoLeasesAnywhere();
    }

    @Test
    @Order(3)
    void pendingPassiveConnectionIsDivertedForTheClientOnly() {
        try (ProbeSession probe = ProbeSession.open(topology, SERVER_V4)) {
            String reply = probe.command("EPSV");
            assertThat(reply).startsWith("229");
            int port = ProbeSession.announcedPort(reply);
            String element = Topology.CLIENT_V4 + " . " + port + " . " + Topology.SERVER_V4;
            assertThat(rules.nftElements()).as("elements while the data connection is pending")
                    .map(e -> e.replaceFirst(" timeout .*$", ""))
                    .containsExactlyInAnyOrder("div4 " + element, "in4 " + element);
            assertThat(probe.connect(Topology.THIRD_V4, Topology.SERVER_V4, port)).as("a third host").startsWith("FAILED");
            assertThat(probe.connect(Topology.CLIENT_V4, Topology.SERVER_V4, port)).as("the client").isEqualTo("CONNECTED");
            rules.awaitNoLeasesAnywhere();
        }
    }

    @Test
    @Order(4)
    void sigtermLeavesNothing() {
        int exit = daemon.stop();
        assertThat(exit).as("exit code after SIGTERM, log:\n%s", daemon.log()).isIn(0, 143);
        assertThat(rules.leftovers(ROUTING_TABLE)).as("after SIGTERM; log:\n%s", daemon.log()).isEmpty();
        assertThat(topology.exec(topology.gateway, "nft", "list", "ruleset").orThrow().stdout().strip())
                .as("the admin's ruleset as it was").isEqualTo(Topology.NFT_ROUTING_RULESET.strip());
    }

    @Test
    @Order(5)
    void afterKill9TheElementsExpireAndCleanupFirewallRemovesTheRest() {
        daemon = FtpGateDaemon.start(topology, settings());
        try (ProbeSession probe = ProbeSession.open(topology, SERVER_V4)) {
            assertThat(probe.command("EPSV")).startsWith("229");
            daemon.kill();
            assertThat(rules.nftElements()).as("what a killed ftpgate left").hasSize(2);
            await("the elements expire by themselves (3 s connect timeout + 5 s)").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500)).until(() -> rules.nftElements().isEmpty());
        }
        assertThat(rules.leftovers(ROUTING_TABLE)).as("table and routing stay until cleaned up").isNotEmpty();
        ExecResult cleanup = daemon.runOnce("--cleanup-firewall");
        assertThat(cleanup.ok()).as(cleanup.describe()).isTrue();
        assertThat(rules.leftovers(ROUTING_TABLE)).as("after --cleanup-firewall").isEmpty();
    }
}
