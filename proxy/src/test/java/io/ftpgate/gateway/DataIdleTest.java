package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.NettyWarnings;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A data connection on which nothing moves for data.idle-timeout is a failed transfer, not a
 * completed one: both peers see a reset, the client gets 426 (even if the server then claims 226),
 * and the metrics say failed, reason data_idle.
 */
class DataIdleTest {
    @RegisterExtension
    final NettyWarnings nettyWarnings = new NettyWarnings();

    @Test
    void aStalledDownloadIsResetAndAnswered426() throws Exception {
        CompletableFuture<Boolean> serverSawReset = new CompletableFuture<>();
        try (ScriptedFtpServer server = new ScriptedFtpServer()) {
            server.on("RETR", (p, a) -> {
                p.reply("150 opening data connection");
                try (Socket d = p.acceptData()) {
                    OutputStream out = d.getOutputStream();
                    out.write(new byte[4096]);
                    out.flush();
                    Thread.sleep(1500); // stalls past the gateway's data idle timeout
                    try {
                        for (int i = 0; i < 100; i++) {
                            out.write(new byte[4096]);
                            out.flush();
                            Thread.sleep(5);
                        }
                        serverSawReset.complete(false);
                    } catch (IOException e) {
                        serverSawReset.complete(true);
                    }
                }
                p.reply("226 transfer complete"); // claims success all the same
            });
            Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
            m.put("ftpgate.data.idle-timeout", "500ms");
            try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), m);
                 RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
                    assertThat(c.command("RETR stalls.bin").code()).isEqualTo(150);
                    assertThat(d.getInputStream().readNBytes(4096)).hasSize(4096);
                    assertThat(ControlLegEndTest.endsWithReset(d.getInputStream())).as("client data connection reset").isTrue();
                }
                Reply r = c.read();
                assertThat(r.code()).as(r.text()).isEqualTo(426);
                assertThat(r.text()).contains("no data moved");
                assertThat(serverSawReset.get(5, TimeUnit.SECONDS)).as("server data connection reset").isTrue();
                assertThat(c.command("NOOP").code()).isEqualTo(200);
                assertThat(gw.refusedCount("data_idle")).isEqualTo(1);
                var failed = gw.gateway.meterRegistry().find("ftpgate.transfers").tag("outcome", "failed").counter();
                assertThat(failed).isNotNull();
                assertThat(failed.count()).isEqualTo(1);
                assertThat(gw.gateway.meterRegistry().find("ftpgate.transfers").tag("outcome", "completed").counter())
                        .as("not counted as completed").isNull();
                gw.awaitNoLeases();
            }
        }
    }
}
