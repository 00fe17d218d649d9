package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.NettyWarnings;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A transfer the server refuses is a failed transfer with the server's reason, not a completed one:
 * the server's own reply reaches the client, the transfer line of the log says {@code failed
 * reason=server_refused}, and the metrics count it failed — whether the server closed the data
 * connection it had accepted before answering 425 (the relay saw a clean end first) or never took
 * it.
 */
class ServerRefusedTransferTest {
    @RegisterExtension
    final NettyWarnings nettyWarnings = new NettyWarnings();

    @Test
    void aDataConnectionTheServerClosedBeforeAnswering425IsAFailedTransfer() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer()) {
            server.on("RETR", (p, a) -> {
                p.reply("150 opening data connection");
                try (Socket d = p.acceptData()) {
                    // closed at once: the gateway sees a clean end of an empty file
                }
                Thread.sleep(200);
                p.reply("425 Failed to establish connection.");
            });
            assertFailedWith(server, 150, 425);
        }
    }

    @Test
    void aDataConnectionTheServerNeverTookIsAFailedTransfer() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer()) {
            server.on("RETR", (p, a) -> p.reply("425 Can't open data connection."));
            assertFailedWith(server, 425, 0);
        }
    }

    /** RETR through the gateway in PASV: the client sees {@code first}, then {@code then} (0: nothing more). */
    private static void assertFailedWith(ScriptedFtpServer server, int first, int then) throws Exception {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.setContext(ctx);
        lines.start();
        Logger session = ctx.getLogger("ftpgate.session");
        session.addAppender(lines);
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), HostileServerTest.FAST);
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
                Reply r = c.command("RETR refused.bin");
                assertThat(r.code()).as(r.text()).isEqualTo(first);
                if (then != 0) {
                    assertThat(d.getInputStream().read()).as("the data connection ends").isEqualTo(-1);
                    Reply last = c.read();
                    assertThat(last.code()).as(last.text()).isEqualTo(then);
                }
            }
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            gw.awaitNoLeases();
            var failed = gw.gateway.meterRegistry().find("ftpgate.transfers").tag("outcome", "failed").counter();
            assertThat(failed).as("counted as failed").isNotNull();
            assertThat(failed.count()).isEqualTo(1);
            assertThat(gw.gateway.meterRegistry().find("ftpgate.transfers").tag("outcome", "completed").counter())
                    .as("not counted as completed").isNull();
            assertThat(gw.refusedCount("server_refused")).isEqualTo(1);
        } finally {
            session.detachAppender(lines);
        }
        List<String> transfers = lines.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(l -> l.contains(": transfer client=")).toList();
        assertThat(transfers).hasSize(1);
        assertThat(transfers.get(0)).contains("RETR \"refused.bin\"").endsWith("failed reason=server_refused");
    }
}
