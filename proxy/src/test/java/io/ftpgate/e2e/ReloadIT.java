package io.ftpgate.e2e;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code systemctl reload} (SIGHUP): new settings apply to new sessions, a running session keeps
 * its own, and a broken file is refused while the gateway keeps serving.
 */
@Tag("netns")
@Timeout(90)
class ReloadIT {

    @Test
    void reloadAppliesToNewSessionsAndRefusesABrokenFile() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY)) {
            FtpGateDaemon gateway = testbed.gateway;
            try (ProbeSession before = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                assertThat(ProbeSession.announcedPort(before.command("EPSV"))).as("default data.port-range").isBetween(40_000, 40_999);

                gateway.reload(FtpGateDaemon.config("  data.port-range = \"41000-41099\""));
                gateway.awaitLog("configuration reloaded");

                try (ProbeSession after = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                    assertThat(ProbeSession.announcedPort(after.command("EPSV"))).as("a new session after the reload")
                            .isBetween(41_000, 41_099);
                }
                assertThat(ProbeSession.announcedPort(before.command("EPSV"))).as("the session that was running keeps its range")
                        .isBetween(40_000, 40_999);

                gateway.reload("ftpgate { listeners = [ broken");
                gateway.awaitLog("reload refused");
                gateway.assertAlive();
                assertThat(before.command("NOOP")).as("the running session after a refused reload").startsWith("200");
                try (ProbeSession afterRefused = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                    assertThat(ProbeSession.announcedPort(afterRefused.command("EPSV"))).as("the last good settings stay in force")
                            .isBetween(41_000, 41_099);
                }
            }
            testbed.rules.awaitNoLeases();
        }
    }
}
