package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.HttpProbe;
import io.ftpgate.testing.HttpProbe.Answer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /health and /ready as a load balancer's check sees them: 200 or 503, with the reason in the body. */
class HealthReadyTest {
    @TempDir
    Path root;

    private static GatewayUnderTest gateway(EmbeddedFtpServer server) throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                Map.of("ftpgate.metrics.listen", "127.0.0.1:0", "ftpgate.instance-name", "gw-a"));
    }

    @Test
    void aRunningGatewayIsAliveAndReadyAndOnlyGetAndHeadAreServed() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server)) {
            InetSocketAddress http = gw.gateway.metricsAddress().orElseThrow();
            assertThat(HttpProbe.get(http, "/health")).isEqualTo(new Answer(200, "alive\n"));
            assertThat(HttpProbe.get(http, "/ready")).isEqualTo(new Answer(200, "ready\n"));
            assertThat(HttpProbe.send(http, "/ready", "HEAD").status()).isEqualTo(200);
            assertThat(HttpProbe.post(http, "/ready").status()).isEqualTo(405);
            assertThat(HttpProbe.get(http, "/readyz").status()).isEqualTo(404);
            assertThat(HttpProbe.get(http, "/metrics").body()).as("the instance name on build_info")
                    .containsPattern("ftpgate_build_info\\{[^}]*instance_name=\"gw-a\"");
        }
    }

    @Test
    void aFailingFirewallMakesTheGatewayUnreadyUntilALeaseSucceedsAgain() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server)) {
            InetSocketAddress http = gw.gateway.metricsAddress().orElseThrow();
            FTPClient c = new FTPClient();
            c.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(c.login("anonymous", "x")).isTrue();
            c.enterLocalPassiveMode();

            gw.firewall.failApply(true);
            assertThat(c.listNames()).as("the listing fails: no lease").isNull();
            Answer broken = HttpProbe.get(http, "/ready");
            assertThat(broken.status()).isEqualTo(503);
            assertThat(broken.body()).isEqualTo("not ready: firewall recording not usable\n");
            assertThat(HttpProbe.get(http, "/health").status()).as("alive all the same").isEqualTo(200);

            gw.firewall.failApply(false);
            assertThat(c.listNames()).as(c.getReplyString()).isNotNull();
            assertThat(HttpProbe.get(http, "/ready").status()).isEqualTo(200);
            c.logout();
            c.disconnect();
        }
    }
}
