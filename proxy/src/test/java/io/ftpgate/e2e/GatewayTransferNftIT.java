package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

/**
 * {@link GatewayTransferIT} with {@code firewall.backend = nftables} and the copying relay on an
 * nftables-only gateway ({@link Topology.Kind#NFTABLES_GATEWAY}: the admin's native ruleset drops
 * input and forward, no iptables rule at all): curl and lftp, RETR and STOR in every mode each
 * supports, IPv4 and IPv6 straight through, and the one-session and partial download cases; each
 * data connection is admitted by an element of ftpgate's sets and the one rule ftpgate inserted
 * into the admin's input chain, and no element may be left after it (see {@code GatewayRules}).
 */
@Tag("netns")
class GatewayTransferNftIT extends GatewayTransferIT {

    @Override
    Testbed startTestbed() {
        RootTools.requireRootAndTools("nft");
        return Testbed.start(Topology.Kind.NFTABLES_GATEWAY,
                FtpGateDaemon.config("  firewall.backend = nftables\n  data.relay = " + relay()), false, "curl", "lftp");
    }

    /** The copying relay (the default), as for the ipset backend. */
    @Override
    String relay() {
        return "copy";
    }

    /** The matrix proves nothing about nftables unless nftables (and nothing else) let the data through. */
    @Test
    void onlyNftablesAdmitsDataConnections() {
        assertThat(testbed.gateway.log()).contains("firewall nftables");
        assertThat(testbed.rules.saved()).as("iptables-save").doesNotContain("-A ");
        assertThat(testbed.topology.exec(testbed.topology.gateway, "nft", "list", "chain", "inet", "filter", "input")
                .orThrow().stdout()).contains("policy drop;", "inserted by ftpgate");
    }

    @Override
    Stream<Arguments> cases() {
        return cases(List.of(new Route("IPv4", FtpGateDaemon.V4), new Route("IPv6", FtpGateDaemon.V6)),
                List.of(Op.RETR, Op.STOR));
    }
}
