package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.NettyWarnings;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data connections that fail while the gateway connects or listens: the transfer ends at once with
 * a reply that says so, and no exception is left to Netty (none reaches a pipeline's tail).
 */
class DataLegErrorsTest {
    @RegisterExtension
    final NettyWarnings nettyWarnings = new NettyWarnings();

    ScriptedFtpServer server;
    GatewayUnderTest gw;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection");
            try {
                p.sendData("hello\n".getBytes());
                p.reply("226 transfer complete");
            } catch (java.io.IOException e) {
                p.reply("426 data connection failed");
            }
        });
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.put("ftpgate.data.connect-timeout", "5s");
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), m);
    }

    @AfterEach
    void stop() {
        gw.close();
        server.close();
    }

    @Test
    void activeClientWhosePortRefusesGets425AtOnce() throws Exception {
        int closed = EmbeddedFtpServer.freePort();
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("PORT 127,0,0,1," + (closed >> 8) + "," + (closed & 255)).code()).isEqualTo(200);
            long t0 = System.nanoTime();
            assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
            Reply r = c.read();
            // The gateway's 425 (connect refused), or the server's 426 if its side ended first.
            assertThat(r.code()).as(r.text()).isIn(425, 426);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("not the connect timeout").isLessThan(Duration.ofSeconds(2));
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void activeClientThatResetsRightAfterConnecting() throws Exception {
        try (ServerSocket port = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int p = port.getLocalPort();
            assertThat(c.command("PORT 127,0,0,1," + (p >> 8) + "," + (p & 255)).code()).isEqualTo(200);
            assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
            try (Socket d = port.accept()) {
                d.setSoLinger(true, 0);
            }
            Reply r = c.read();
            assertThat(r.code()).as(r.text()).isIn(226, 425, 426);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void passiveClientThatConnectsAndResetsManyTimes(@TempDir Path ignored) throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            for (int i = 0; i < 20; i++) {
                int port = RawFtpClient.passivePort(c.command("PASV"));
                try (Socket d = new Socket(gw.address().getAddress(), port)) {
                    d.setSoLinger(true, 0);
                }
                Reply r = c.command("RETR hello.txt");
                if (r.code() == 150) {
                    r = c.read();
                }
                assertThat(r.code()).as(r.text()).isIn(226, 425, 426);
            }
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }
}
