package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener's own {@code advertised-address}: its 227 names that address, over
 * {@code data.advertised-address}, and a listener without one of the client's family leaves the
 * global one (or, without that, the local address) in place. EPSV is not touched: a 229 names a port.
 */
class ListenerAdvertisedAddressTest {
    @TempDir
    Path root;

    private static RawFtpClient.Reply pasv(InetSocketAddress gateway) throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gateway)) {
            return c.command("PASV");
        }
    }

    @Test
    void the227NamesTheListenersAddressOverTheGlobalOne() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                     "ftpgate.listeners.test.advertised-address", "198.51.100.77",
                     "ftpgate.data.advertised-address", "192.0.2.99"))) {
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                RawFtpClient.Reply r = c.command("PASV");
                assertThat(r.code()).isEqualTo(227);
                assertThat(r.text()).contains("(198,51,100,77,");
                // The data listener is where it was: the announced port on the address the client
                // reached, while the session lives (its end closes the listener).
                try (java.net.Socket data = new java.net.Socket("127.0.0.1", RawFtpClient.passivePort(r))) {
                    assertThat(data.isConnected()).isTrue();
                }
            }
        }
    }

    @Test
    void withoutAnAddressOfTheClientsFamilyTheGlobalOneApplies() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("[::]:0", "127.0.0.1:" + server.port(), Map.of(
                     "ftpgate.listeners.test.advertised-address", "2001:db8::77",
                     "ftpgate.data.advertised-address", "192.0.2.99"))) {
            int port = gw.address().getPort();
            RawFtpClient.Reply v4 = pasv(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
            assertThat(v4.text()).as("an IPv4 client: no IPv4 address of the listener's").contains("(192,0,2,99,");
            try (RawFtpClient v6 = RawFtpClient.loggedIn(new InetSocketAddress(InetAddress.getByName("::1"), port))) {
                RawFtpClient.Reply r = v6.command("PASV");
                assertThat(r.code()).as("an IPv6 client's PASV: the listener's IPv6 address cannot be put in a 227, "
                        + "the global IPv4 one no longer applies: %s", r).isNotEqualTo(227);
                assertThat(v6.command("EPSV").code()).as("EPSV names no address and still works").isEqualTo(229);
            }
        }
    }
}
