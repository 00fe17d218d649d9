package io.ftpgate.e2e;

import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.provider.Arguments;

/**
 * {@link GatewayTransferIT} with {@code firewall.backend = ipset} and the copying relay: curl and lftp, RETR and STOR in
 * every mode each supports, IPv4 and IPv6 straight through, and the one-session and partial
 * download cases; each data connection is admitted by an entry of ftpgate's sets, and none may be
 * left after it (the set entries count as leases, see {@code GatewayRules}).
 */
@Tag("netns")
class GatewayTransferIpsetIT extends GatewayTransferIT {

    @Override
    Testbed startTestbed() {
        RootTools.requireRootAndTools("ipset");
        return Testbed.start(Topology.Kind.GATEWAY,
                FtpGateDaemon.config("  firewall.backend = ipset\n  data.relay = " + relay()), false, "curl", "lftp");
    }

    /** The copying relay (the default), so that the matrix runs with both relays. */
    @Override
    String relay() {
        return "copy";
    }

    @Override
    Stream<Arguments> cases() {
        return cases(List.of(new Route("IPv4", FtpGateDaemon.V4), new Route("IPv6", FtpGateDaemon.V6)),
                List.of(Op.RETR, Op.STOR));
    }
}
