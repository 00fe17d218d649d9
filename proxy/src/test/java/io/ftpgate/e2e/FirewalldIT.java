package io.ftpgate.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FirewalldDaemon;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The nftables backend on a gateway whose firewall is firewalld (its nftables backend, default
 * zone {@code drop} admitting only the control ports, see {@link FirewalldDaemon}), with
 * {@code hook-chains = ["inet firewalld filter_INPUT"]}: ftpgate's one rule at the top of
 * firewalld's input chain admits exactly the leased data connections; {@code firewall-cmd --reload}
 * rebuilds firewalld's table without it, and ftpgate's periodic check puts it back (transfers work
 * again, live leases stayed); at stop firewalld's table is as firewalld made it.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class FirewalldIT {

    private static final String CHAIN = "inet firewalld filter_INPUT";
    private static final String MANAGED_RULE = "meta mark & 0x00800000 == 0x00800000 accept"
            + " comment \"ftpgate leases (inserted by ftpgate, table inet ftpgate)\"";
    private static final String SETTINGS = FtpGateDaemon.config(String.join("\n",
            "  firewall.backend = nftables",
            "  firewall.nftables.hook-chains = [\"" + CHAIN + "\"]",
            "  firewall.check-interval = 1s",
            "  data.connect-timeout = 10s"));

    private Topology topology;
    private VsftpdServer server;
    private FirewalldDaemon firewalld;
    private FtpGateDaemon daemon;
    private String firewalldTable;

    @BeforeAll
    void setUp() {
        RootTools.requireRootAndTools("nft");
        Testbed.requireTools();
        topology = Topology.create(Topology.Kind.BARE_GATEWAY);
        try {
            server = VsftpdServer.start(topology);
            firewalld = FirewalldDaemon.start(topology);
            firewalldTable = firewalld.table();
            daemon = FtpGateDaemon.start(topology, SETTINGS);
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

    @Test
    @Order(1)
    void ftpgatesRuleIsTheFirstOfFirewalldsInputChain() {
        assertThat(firewalldTable).as("firewalld's table before ftpgate").contains("chain filter_INPUT")
                .doesNotContain("ftpgate");
        assertThat(firstRuleOfInputChain()).isEqualTo(MANAGED_RULE);
        assertThat(chain()).containsOnlyOnce("inserted by ftpgate");
    }

    @Test
    @Order(2)
    void transfersWorkInEveryPassiveModeAndBothFamilies() throws Exception {
        download(FtpGateDaemon.V4, FtpMode.PASV, "IPv4 PASV");
        download(FtpGateDaemon.V4, FtpMode.EPSV, "IPv4 EPSV");
        download(FtpGateDaemon.V6, FtpMode.EPSV, "IPv6 EPSV");
    }

    @Test
    @Order(3)
    void firewalldStillDropsWhatNoLeaseNames() {
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V4)) {
            int port = ProbeSession.announcedPort(probe.command("EPSV"));
            assertThat(probe.connect(Topology.THIRD_V4, FtpGateDaemon.V4.host(), port)).as("a third host")
                    .startsWith("FAILED").contains("timed out");
            assertThat(probe.connect(Topology.CLIENT_V4, FtpGateDaemon.V4.host(), port + 1)).as("another port")
                    .startsWith("FAILED").contains("timed out");
        }
    }

    @Test
    @Order(4)
    void afterFirewallCmdReloadTheCheckPutsTheRuleBackAndALeaseTakenBeforeStillWorks() throws Exception {
        try (ProbeSession probe = ProbeSession.open(topology, FtpGateDaemon.V4)) {
            int port = ProbeSession.announcedPort(probe.command("EPSV"));
            ExecResult reload = firewalld.cmd("--reload");
            assertThat(reload.ok()).as(reload.describe()).isTrue();
            daemon.awaitLog("firewall: put back rule in " + CHAIN);
            await("the rule back at the top").atMost(Duration.ofSeconds(5)).until(() -> MANAGED_RULE.equals(firstRuleOfInputChain()));
            assertThat(chain()).containsOnlyOnce("inserted by ftpgate");
            assertThat(probe.connect(Topology.CLIENT_V4, FtpGateDaemon.V4.host(), port)).as("the lease taken before the reload")
                    .isEqualTo("CONNECTED");
        }
        download(FtpGateDaemon.V4, FtpMode.EPSV, "after the reload");
        assertThat(metric()).contains("ftpgate_firewall_objects_restored_total{object=\"rule\"} 1.0");
    }

    @Test
    @Order(5)
    void atStopFirewalldsTableIsAsFirewalldMadeIt() {
        assertThat(daemon.stop()).isIn(0, 143);
        assertThat(firewalld.table()).isEqualTo(firewalldTable);
        assertThat(topology.exec(topology.gateway, "nft", "list", "tables").orThrow().stdout()).doesNotContain("ftpgate");
        assertThat(new GatewayRules(topology).leases()).isEmpty();
        assertThat(firewalld.log()).doesNotContain("ERROR");
    }

    private void download(FtpEndpoint endpoint, FtpMode mode, String what) throws Exception {
        Path local = topology.workDir().resolve("small-" + mode + "-" + endpoint.ipv6() + "-" + System.nanoTime());
        ExecResult result = new Curl().retrieve(topology, endpoint, mode, VsftpdServer.SMALL, local);
        assertThat(result.ok()).as(what + ": " + result.describe() + "\nftpgate:\n" + daemon.log()).isTrue();
        assertThat(Files.readString(local)).as(what).isEqualTo(Files.readString(server.root().resolve(VsftpdServer.SMALL)));
    }

    private String chain() {
        return topology.exec(topology.gateway, "nft", "list", "chain", "inet", "firewalld", "filter_INPUT").orThrow().stdout();
    }

    private String firstRuleOfInputChain() {
        // table, chain, type/hook line, then the first rule
        return chain().lines().map(String::strip).filter(l -> !l.isEmpty()).skip(3).findFirst().orElse("");
    }

    private String metric() {
        return topology.exec(topology.gateway, "curl", "-s", "http://127.0.0.1:9121/metrics").stdout();
    }
}
