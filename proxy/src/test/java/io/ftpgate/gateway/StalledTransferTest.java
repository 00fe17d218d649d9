package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A transfer that stalls (no byte for data.idle-timeout) ends with a reset on both data legs, never
 * a clean end of file, and the client reads a 426 that says why, whatever the server answers;
 * counted as data_idle, no lease left. IPv4 and IPv6 clients.
 */
class StalledTransferTest {
    static final byte[] START = new byte[1000];
    ScriptedFtpServer server;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @ParameterizedTest(name = "{0}, the server answers {1}")
    @CsvSource({
            "127.0.0.1:0, 426 Connection closed; transfer aborted.",
            "127.0.0.1:0, 226 Transfer complete.",
            "[::1]:0,     426 Connection closed; transfer aborted.",
            "[::1]:0,     226 Transfer complete."})
    void aStalledDownloadEndsWithAResetAnd426(String listen, String serverReply) throws Exception {
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection");
            try (Socket data = p.acceptData()) {
                data.getOutputStream().write(START);
                data.getOutputStream().flush();
                // Then nothing, until the gateway gives up on the connection.
                data.setSoTimeout(10_000);
                try {
                    data.getInputStream().read();
                } catch (IOException reset) {
                    // the gateway's reset
                }
            }
            p.reply(serverReply);
        });
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.put("ftpgate.data.idle-timeout", "1s");
        m.put("ftpgate.control.idle-timeout", "10s");
        try (GatewayUnderTest gw = new GatewayUnderTest(listen, server.upstream(), m);
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("EPSV"));
            try (Socket data = new Socket(gw.address().getAddress(), port)) {
                data.setSoTimeout(10_000);
                assertThat(c.command("RETR slow.bin").code()).isEqualTo(150);
                InputStream in = data.getInputStream();
                assertThat(in.readNBytes(START.length)).isEqualTo(START);
                assertThatThrownBy(in::read).as("a reset, never a clean end of file").isInstanceOf(SocketException.class);
            }
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(426);
            assertThat(r.text()).contains("no data moved for 1 s");
            assertThat(c.command("NOOP").code()).as("the session goes on").isEqualTo(200);
            assertThat(gw.refusedCount("data_idle")).isEqualTo(1.0);
            assertThat(gw.gateway.meterRegistry().find("ftpgate.transfers").tag("outcome", "failed").counter().count())
                    .isEqualTo(1.0);
            gw.awaitNoLeases();
        }
    }
}
