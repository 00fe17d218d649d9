package io.ftpgate.e2e;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** Ending ftpgate, cleanly or not, with a lease pending: nothing of its own may stay in the firewall. */
@Tag("netns")
@Timeout(90)
class ShutdownIT {

    /**
     * After a crash (SIGKILL) the lease stays in the kernel; the next start removes it, and so does
     * {@code --cleanup-firewall} (what a unit's ExecStopPost runs).
     */
    @Test
    void leasesLeftByACrashAreRemovedAtTheNextStartAndByCleanupFirewall() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY)) {
            GatewayRules rules = testbed.rules;
            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                testbed.gateway.kill();
            }
            assertThat(rules.leases()).as("the lease a crashed ftpgate left behind").hasSize(1);

            FtpGateDaemon restarted = FtpGateDaemon.start(testbed.topology);
            assertThat(rules.leases()).as("leases after the restart, log:\n%s", restarted.log()).isEmpty();

            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V6)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                restarted.kill();
            }
            assertThat(rules.leases()).as("the IPv6 lease a crashed ftpgate left behind").hasSize(1);
            ExecResult cleanup = restarted.runOnce("--cleanup-firewall");
            assertThat(cleanup.ok()).as(cleanup.describe()).isTrue();
            assertThat(rules.saved()).as("iptables-save and ip6tables-save after --cleanup-firewall").doesNotContain("FTPGATE");
        }
    }

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

    /**
     * SIGUSR1 drains without exiting: /ready answers 503 (curl in the gateway's namespace, as
     * keepalived's vrrp_script would ask), the running session goes on, POST /undrain restores
     * 200, and SIGTERM afterwards still stops cleanly. Log lines carry the instance name.
     */
    @Test
    void sigusr1DrainsWithoutExitingAndUndrainRestoresReadiness() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY, FtpGateDaemon.config("instance-name = gw-a"), false)) {
            FtpGateDaemon gateway = testbed.gateway;
            assertThat(httpStatus(testbed, "GET", "/ready")).isEqualTo("200");
            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                gateway.signal("USR1");
                gateway.awaitLog("INFO  gw-a Main: SIGUSR1: draining: 1 session(s) running");
                assertThat(gateway.log()).as("every line names the instance").contains("INFO  gw-a Gateway: ftpgate ready");
                assertThat(httpStatus(testbed, "GET", "/ready")).isEqualTo("503");
                assertThat(httpStatus(testbed, "GET", "/health")).isEqualTo("200");
                gateway.assertAlive();
                assertThat(probe.command("EPSV")).as("the running session goes on").startsWith("229");
                assertThat(httpStatus(testbed, "POST", "/undrain")).isEqualTo("200");
                assertThat(httpStatus(testbed, "GET", "/ready")).isEqualTo("200");
            }
            int exit = gateway.stop();
            assertThat(exit).as("exit code after SIGTERM, log:\n%s", gateway.log()).isIn(0, 143);
            assertThat(testbed.rules.saved()).doesNotContain("FTPGATE");
        }
    }

    private static String httpStatus(Testbed testbed, String method, String path) {
        return testbed.topology.exec(testbed.topology.gateway, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "-X", method, "http://127.0.0.1:9121" + path).stdout().trim();
    }
}
