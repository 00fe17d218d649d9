package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Even at DEBUG, where every command is logged, a password never reaches the log. */
class PasswordNeverLoggedTest {
    @TempDir
    Path root;

    @Test
    void passIsMaskedInEveryLogLine() throws Exception {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(ctx);
        appender.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger ftpgate = ctx.getLogger("ftpgate");
        Logger io = ctx.getLogger("io.ftpgate");
        Level before = ftpgate.getLevel();
        Level beforeIo = io.getLevel();
        root.addAppender(appender);
        ftpgate.setLevel(Level.DEBUG);
        io.setLevel(Level.DEBUG);
        EmbeddedFtpServer.sampleRoot(this.root, 10);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(this.root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of())) {
            FTPClient c = new FTPClient();
            c.connect(gw.address().getAddress(), gw.address().getPort());
            c.login("anonymous", "Sup3r-Secret-Pa55");
            c.sendCommand("pass", "Sup3r-Secret-Pa55 again");
            c.sendCommand("PASS Sup3r-Secret-Pa55\u0000nul");
            c.enterLocalPassiveMode();
            c.retrieveFile("hello.txt", new ByteArrayOutputStream());
            c.logout();
            c.disconnect();
        } finally {
            root.detachAppender(appender);
            ftpgate.setLevel(before);
            io.setLevel(beforeIo);
        }
        assertThat(appender.list).as("the session was logged at DEBUG")
                .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("PASS ****"));
        assertThat(appender.list).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains("Pa55"));
    }
}
