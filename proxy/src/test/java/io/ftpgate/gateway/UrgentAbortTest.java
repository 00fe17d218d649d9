package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ABOR during a RETR, sent with TCP urgent data: the way Python's ftplib sends it (the whole line
 * with MSG_OOB, so its line end is the urgent byte) and RFC 959's Telnet Synch (IAC IP, IAC DM with
 * DM urgent). The client gets the transfer's and the ABOR's replies, and the session goes on.
 */
class UrgentAbortTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    final io.ftpgate.testing.NettyWarnings nettyWarnings = new io.ftpgate.testing.NettyWarnings();
    static final int SIZE = 8 * 1024 * 1024;

    @TempDir
    static Path root;
    static EmbeddedFtpServer ftp;

    @BeforeAll
    static void startServer() throws Exception {
        EmbeddedFtpServer.sampleRoot(root, SIZE);
        ftp = new EmbeddedFtpServer(root, "127.0.0.1", true);
    }

    @AfterAll
    static void stopServer() {
        ftp.close();
    }

    static GatewayUnderTest gateway() throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + ftp.port(), Map.of());
    }

    @Test
    void aborWithAnUrgentLineEnd() throws Exception {
        abortDuringRetr(c -> {
            c.sendRaw("ABOR\r".getBytes(StandardCharsets.US_ASCII));
            c.sendUrgent('\n');
        });
    }

    @Test
    void telnetSynchWithAnUrgentDataMark() throws Exception {
        abortDuringRetr(c -> {
            c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xf4, (byte) 0xff});
            c.sendUrgent(0xf2);
            c.send("ABOR");
        });
    }

    interface Abort {
        void send(RawFtpClient c) throws IOException;
    }

    private void abortDuringRetr(Abort abort) throws Exception {
        try (GatewayUnderTest gw = gateway(); RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("TYPE I").code()).isEqualTo(200);
            try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(d.getInputStream().readNBytes(64 * 1024)).hasSize(64 * 1024);
                abort.send(c);
            }
            int first = c.read().code();
            int second = c.read().code();
            assertThat(new int[] {first, second}).as("RETR and ABOR answered")
                    .containsAnyOf(426, 451, 226).containsAnyOf(225, 226);
            assertThat(c.command("NOOP").code()).as("the next command gets its own reply").isEqualTo(200);
            assertThat(c.command("QUIT").code()).isEqualTo(221);
            gw.awaitNoSessionsNorLeases();
        }
    }

    @ParameterizedTest(name = "ftplib {0}")
    @ValueSource(strings = {"pasv", "port"})
    void pythonFtplibAbortsThenNoopAndRetrAgain(String mode) throws Exception {
        RootTools.requireTools("python3");
        Path script = Path.of(getClass().getResource("/python/ftplib_abort.py").toURI());
        try (GatewayUnderTest gw = gateway()) {
            Process p = new ProcessBuilder("python3", script.toString(), "127.0.0.1",
                    Integer.toString(gw.address().getPort()), "big.bin", mode).redirectErrorStream(true).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("ftplib finished").isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            List<String> lines = out.lines().toList();
            assertThat(lines).as(out).anyMatch(l -> l.matches("abort (first|second): 22[56].*"));
            assertThat(lines).as(out).contains("noop: 200 Command NOOP okay.");
            assertThat(lines).as(out).anyMatch(l -> l.startsWith("retr: 226"));
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(root.resolve("big.bin"))));
            assertThat(lines).as(out).contains("sha256: " + sha);
            gw.awaitNoSessionsNorLeases();
        }
    }
}
