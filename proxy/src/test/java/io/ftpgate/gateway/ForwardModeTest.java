package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import java.util.List;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;

/**
 * Forward mode as a client sees it before any server is reached: the gateway's own greeting, and
 * refusals of logins that name no server, a forbidden one, or the gateway itself. (Reaching real
 * servers is tested in network namespaces: loopback servers are always refused as loops.)
 */
class ForwardModeTest {

    private static GatewayUnderTest forwardGateway() throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", null, Map.of(
                "ftpgate.listeners.test.mode", "forward",
                "ftpgate.destinations.allow", List.of("203.0.113.0/24")));
    }

    @Test
    void greetsAndRefusesLoginsWithoutAnAllowedServer() throws Exception {
        try (GatewayUnderTest gw = forwardGateway()) {
            FTPClient c = new FTPClient();
            c.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(c.getReplyCode()).isEqualTo(220);
            assertThat(c.getReplyString()).contains("USER name@host");

            assertThat(c.sendCommand("PWD")).isEqualTo(530);
            assertThat(c.sendCommand("USER anonymous")).isEqualTo(530);
            assertThat(c.getReplyString()).contains("USER name@host[:port]");
            assertThat(c.sendCommand("USER anonymous@192.0.2.1")).isEqualTo(530);
            assertThat(c.getReplyString()).contains("does not allow connections to that server");
            assertThat(c.sendCommand("USER anonymous@127.0.0.1:21")).isEqualTo(530);
            assertThat(c.getReplyString()).contains("will not connect to itself");
            assertThat(c.sendCommand("USER anonymous@203.0.113.7:2121")).as("port not allowed").isEqualTo(530);
            assertThat(c.sendCommand("USER anonymous@[2001:db8::1")).isEqualTo(530);
            assertThat(c.sendCommand("NOOP")).isEqualTo(200);
            assertThat(c.sendCommand("QUIT")).isEqualTo(221);
            c.disconnect();
            assertThat(gw.gateway.meterRegistry().scrape())
                    .contains("ftpgate_refused_total{reason=\"destination_denied\"} 2.0")
                    .contains("ftpgate_refused_total{reason=\"destination_loop\"} 1.0");
        }
    }
}
