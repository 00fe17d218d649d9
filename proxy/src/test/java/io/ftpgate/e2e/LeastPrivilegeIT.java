package io.ftpgate.e2e;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ftpgate needs root or CAP_NET_ADMIN, not root itself: as user nobody with CAP_NET_ADMIN and
 * CAP_NET_BIND_SERVICE it binds port 21, leases data connections for both families and removes
 * its chains on SIGTERM.
 */
@Tag("netns")
@Timeout(90)
class LeastPrivilegeIT {

    @Test
    void servesAndCleansUpAsNobodyWithNetAdmin() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY, "curl", "setpriv")) {
            testbed.gateway.stop();
            FtpGateDaemon gateway = FtpGateDaemon.startUnprivileged(testbed.topology);
            assertThat(gateway.user()).isEqualTo("nobody");

            TransferChecks checks = new TransferChecks(testbed.topology, testbed.server);
            checks.retrieve(new Curl(), FtpGateDaemon.V4, FtpMode.EPSV, "nobody-v4");
            checks.retrieve(new Curl(), FtpGateDaemon.V6, FtpMode.EPSV, "nobody-v6");
            testbed.rules.awaitNoLeases();

            int exit = gateway.stop();
            assertThat(exit).as("exit code after SIGTERM, log:\n%s", gateway.log()).isIn(0, 143);
            assertThat(testbed.rules.saved()).as("firewall after SIGTERM").doesNotContain("FTPGATE");
        }
    }
}
