package io.ftpgate.e2e;

import java.util.List;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link IpsetLeaseIT} with {@code firewall.backend = nftables} on an nftables-only gateway
 * ({@link Topology.Kind#NFTABLES_GATEWAY}: input and forward policies drop, no iptables rule): a
 * pending data connection is one set element, for exactly the client, the port and the gateway's
 * address, and goes when the connection is made; after {@code kill -9} the element expires by
 * itself, the next start removes what is left (one inserted rule, not two), and SIGTERM or
 * {@code --cleanup-firewall} leave the admin's ruleset byte for byte as it was. Here too: the one
 * rule ftpgate inserts at the top of the admin's input chain is there while it runs.
 */
@Tag("netns")
class NftLeaseIT extends IpsetLeaseIT {

    private static final String SETTINGS = FtpGateDaemon.config("  firewall.backend = nftables\n  data.connect-timeout = 10s");
    private static final String MANAGED_RULE = "meta mark & 0x00800000 == 0x00800000 accept"
            + " comment \"ftpgate leases (inserted by ftpgate, table inet ftpgate)\"";

    /** {@code nft list ruleset} before ftpgate ever ran: the admin's ruleset. */
    private String adminRuleset;

    @Override
    String settings() {
        return SETTINGS;
    }

    @Override
    Topology.Kind kind() {
        return Topology.Kind.NFTABLES_GATEWAY;
    }

    @Override
    void requireBackendTools() {
        RootTools.requireRootAndTools("nft");
    }

    @Override
    String pendingLease(boolean ipv6, String client, int port, String gatewayAddress) {
        return "in" + (ipv6 ? "6 " : "4 ") + client + " . " + port + " . " + gatewayAddress + " timeout 15s expires ";
    }

    @Override
    void assertObjectsStayUntilCleanup() {
        assertThat(ruleset()).as("table and rule stay until cleanup").contains("table inet ftpgate", MANAGED_RULE);
    }

    @Override
    void rememberFirewallBeforeFtpgate() {
        adminRuleset = ruleset();
    }

    @Override
    void assertNothingElseLeft(String when) {
        assertThat(ruleset()).as("the admin's ruleset " + when).isEqualTo(adminRuleset);
    }

    @Override
    void assertOneSetOfObjectsAfterRestart() {
        assertThat(inputChain()).as("one rule, not two").containsOnlyOnce("inserted by ftpgate");
    }

    @Test
    void theOneInsertedRuleIsAtTheTopOfTheAdminsInputChainWhileRunning() {
        List<String> input = inputChain().lines().map(String::strip).toList();
        assertThat(input.get(3)).as("the first rule of inet filter input").isEqualTo(MANAGED_RULE);
        assertThat(input).filteredOn(line -> line.contains("ftpgate")).hasSize(1);
        assertThat(topology.exec(topology.gateway, "nft", "list", "chain", "inet", "filter", "forward").orThrow().stdout())
                .doesNotContain("ftpgate");
        assertThat(rules.saved()).as("iptables-save: no iptables rule at all").doesNotContain("-A ");
    }

    private String inputChain() {
        return topology.exec(topology.gateway, "nft", "list", "chain", "inet", "filter", "input").orThrow().stdout();
    }

    private String ruleset() {
        return topology.exec(topology.gateway, "nft", "list", "ruleset").orThrow().stdout();
    }
}
