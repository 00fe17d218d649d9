package io.ftpgate.e2e;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ftpgate needs root or CAP_NET_ADMIN, not root itself: as user nobody with CAP_NET_ADMIN and
 * CAP_NET_BIND_SERVICE it binds port 21, leases data connections for both families and removes
 * its chains on SIGTERM. The ipset backend also needs CAP_NET_RAW (iptables' set match looks sets
 * up through a raw socket; {@code systemd/ipset.conf} adds it): with it, the same; without it, a
 * clear error at start.
 */
@Tag("netns")
@Timeout(90)
class LeastPrivilegeIT {

    @ParameterizedTest(name = "firewall.backend = {0}, extra capabilities {1}")
    @CsvSource({"iptables, ''", "ipset, net_raw"})
    void servesAndCleansUpAsNobodyWithNetAdmin(String backend, String extraCaps) {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY, "curl", "setpriv")) {
            testbed.gateway.stop();
            FtpGateDaemon gateway = FtpGateDaemon.startUnprivileged(testbed.topology, "  firewall.backend = " + backend,
                    extraCaps.isEmpty() ? List.of() : List.of(extraCaps));
            assertThat(gateway.user()).isEqualTo("nobody");

            TransferChecks checks = new TransferChecks(testbed.topology, testbed.server);
            checks.retrieve(new Curl(), FtpGateDaemon.V4, FtpMode.EPSV, "nobody-v4");
            checks.retrieve(new Curl(), FtpGateDaemon.V6, FtpMode.EPSV, "nobody-v6");
            testbed.rules.awaitNoLeases();

            int exit = gateway.stop();
            assertThat(exit).as("exit code after SIGTERM, log:\n%s", gateway.log()).isIn(0, 143);
            assertThat(testbed.rules.saved()).as("firewall after SIGTERM").doesNotContain("FTPGATE");
            assertThat(testbed.rules.sets()).as("ipset sets after SIGTERM").isEmpty();
        }
    }

    @Test
    void theIpsetBackendWithoutNetRawSaysWhatItLacks() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY, "setpriv")) {
            testbed.gateway.stop();
            ExecResult run = FtpGateDaemon.runUnprivileged(testbed.topology, "  firewall.backend = ipset", List.of());
            assertThat(run.exitCode()).as(run.describe()).isEqualTo(1);
            assertThat(run.stdout() + run.stderr()).contains("cannot set up the firewall", "Can't open socket to ipset");
            assertThat(testbed.rules.leftovers(100)).as("what the failed start left").isEmpty();
        }
    }
}
