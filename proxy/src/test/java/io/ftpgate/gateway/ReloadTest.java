package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reload: new settings for new sessions, running sessions untouched, bad changes refused. */
class ReloadTest {
    @TempDir
    Path one;
    @TempDir
    Path two;

    private static String read(FTPClient c, String file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(c.retrieveFile(file, out)).as(c.getReplyString()).isTrue();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static FTPClient login(InetSocketAddress a) throws IOException {
        FTPClient c = new FTPClient();
        c.connect(a.getAddress(), a.getPort());
        assertThat(c.login("anonymous", "x")).isTrue();
        c.enterLocalPassiveMode();
        return c;
    }

    @Test
    void newSessionsUseTheNewUpstreamWhileRunningOnesContinue() throws Exception {
        Files.writeString(one.resolve("who.txt"), "server one");
        Files.writeString(two.resolve("who.txt"), "server two");
        try (EmbeddedFtpServer s1 = new EmbeddedFtpServer(one, "127.0.0.1", true);
             EmbeddedFtpServer s2 = new EmbeddedFtpServer(two, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + s1.port(), Map.of())) {
            InetSocketAddress a = gw.address();
            FTPClient running = login(a);
            assertThat(read(running, "who.txt")).isEqualTo("server one");

            gw.gateway.reload(GatewayUnderTest.settings(Map.of(
                    "ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.test.upstream", "127.0.0.1:" + s2.port(),
                    "ftpgate.listeners.extra.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.extra.upstream", "127.0.0.1:" + s1.port(),
                    "ftpgate.metrics.listen", "")));

            assertThat(read(running, "who.txt")).as("the running session keeps its server").isEqualTo("server one");
            FTPClient fresh = login(a);
            assertThat(read(fresh, "who.txt")).as("a new session on the same port").isEqualTo("server two");
            List<InetSocketAddress> bound = gw.gateway.boundAddresses();
            assertThat(bound).hasSize(2).contains(a);
            FTPClient extra = login(bound.stream().filter(b -> !b.equals(a)).findFirst().orElseThrow());
            assertThat(read(extra, "who.txt")).isEqualTo("server one");
            for (FTPClient c : List.of(running, fresh, extra)) {
                c.logout();
                c.disconnect();
            }
        }
    }

    @Test
    void firewallChangesAndUnbindableListenersAreRefusedAndChangeNothing() throws Exception {
        try (EmbeddedFtpServer s1 = new EmbeddedFtpServer(one, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + s1.port(), Map.of())) {
            InetSocketAddress a = gw.address();
            assertThatThrownBy(() -> gw.gateway.reload(GatewayUnderTest.settings(Map.of(
                    "ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.test.upstream", "127.0.0.1:" + s1.port(),
                    "ftpgate.metrics.listen", "",
                    "ftpgate.firewall.backend", "iptables"))))
                    .hasMessageContaining("firewall settings changed");
            assertThatThrownBy(() -> gw.gateway.reload(GatewayUnderTest.settings(Map.of(
                    "ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.test.upstream", "127.0.0.1:" + s1.port(),
                    "ftpgate.listeners.bad.listen", List.of("192.0.2.99:21"),
                    "ftpgate.listeners.bad.upstream", "127.0.0.1:21",
                    "ftpgate.metrics.listen", ""))))
                    .hasMessageContaining("cannot listen on 192.0.2.99:21");
            assertThat(gw.gateway.boundAddresses()).containsExactly(a);
            FTPClient c = login(a);
            c.logout();
            c.disconnect();
        }
    }
}
