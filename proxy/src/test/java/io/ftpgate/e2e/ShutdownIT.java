package io.ftpgate.e2e;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** SIGTERM while a lease is pending: ftpgate exits and leaves nothing of its own in the firewall. */
@Tag("netns")
@Timeout(90)
class ShutdownIT {

    @Test
    void sigtermRemovesEveryChainAndRule() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY)) {
            GatewayRules rules = testbed.rules;
            FtpGateDaemon gateway = testbed.gateway;
            assertThat(rules.saved()).as("ftpgate's chains while it runs").contains(GatewayRules.CHAIN);

            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                assertThat(rules.leases()).as("a pending lease").hasSize(1);

                int exit = gateway.stop();
                // 143 is the JVM's exit after a SIGTERM it handled (128 + 15); 1 would mean an error.
                assertThat(exit).as("exit code after SIGTERM, log:\n%s", gateway.log()).isIn(0, 143);
                assertThat(rules.saved()).as("iptables-save and ip6tables-save after SIGTERM (exit code %d), log:\n%s",
                        exit, gateway.log()).doesNotContain("FTPGATE");
            }
        }
    }
}
