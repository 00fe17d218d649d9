package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.gateway.GatewayTransferTest.Mode;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that stop, go quiet or give up halfway: ABOR, REIN, REST, a client or server that vanishes
 * mid-transfer, a failing firewall, idle sessions, a full gateway. The user gets the server's
 * replies or a clear one of the gateway's; nothing hangs; no session or lease outlives its reason.
 */
class VanishingPeerTest {
    static final int BIG = 16 * 1024 * 1024;

    @TempDir
    static Path root;
    static EmbeddedFtpServer ftp;
    static byte[] big;

    @BeforeAll
    static void startServer() throws Exception {
        EmbeddedFtpServer.sampleRoot(root, BIG);
        big = Files.readAllBytes(root.resolve("big.bin"));
        ftp = new EmbeddedFtpServer(root, "127.0.0.1", true);
    }

    @AfterAll
    static void stopServer() {
        ftp.close();
    }

    static GatewayUnderTest gateway(String upstream, Map<String, Object> extra) throws Exception {
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.putAll(extra);
        return new GatewayUnderTest("127.0.0.1:0", upstream, m);
    }

    static GatewayUnderTest gateway() throws Exception {
        return gateway("127.0.0.1:" + ftp.port(), Map.of());
    }

    static Socket data(GatewayUnderTest gw, Reply passive) throws IOException {
        Socket s = new Socket(gw.address().getAddress(), RawFtpClient.passivePort(passive));
        s.setSoTimeout(5000);
        return s;
    }

    /** Reads until end of stream or reset; returns the bytes read. Fails on a 5 s stall. */
    static int drain(InputStream in) throws IOException {
        int total = 0;
        byte[] buf = new byte[65536];
        try {
            for (int n; (n = in.read(buf)) != -1; ) {
                total += n;
            }
        } catch (java.net.SocketException reset) {
            // the data connection was reset: ended all the same
        }
        return total;
    }

    @Test
    void aborDuringLargeRetrGivesTheServersRepliesAndTheSessionGoesOn() throws Exception {
        try (GatewayUnderTest gw = gateway(); RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("TYPE I").code()).isEqualTo(200);
            Socket d = data(gw, c.command("PASV"));
            assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
            assertThat(d.getInputStream().readNBytes(64 * 1024)).hasSize(64 * 1024);
            c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xf4, (byte) 0xff, (byte) 0xf2});
            c.send("ABOR");
            d.close();
            int first = c.read().code();
            int second = c.read().code();
            assertThat(new int[] {first, second}).as("RETR and ABOR answered")
                    .containsAnyOf(426, 451).containsAnyOf(225, 226);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            gw.awaitNoLeases();
            assertThat(c.command("QUIT").code()).isEqualTo(221);
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void reinThenLoginAgainAndRestartedRetrieve() throws Exception {
        try (GatewayUnderTest gw = gateway()) {
            FTPClient c = GatewayTransferTest.connect(gw, Mode.PASV);
            assertThat(c.reinitialize()).as(c.getReplyString()).isTrue();
            assertThat(c.login("anonymous", "again@example.org")).isTrue();
            assertThat(c.setFileType(FTPClient.BINARY_FILE_TYPE)).isTrue();
            c.setRestartOffset(1_000_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("big.bin", out)).as(c.getReplyString()).isTrue();
            assertThat(out.toByteArray()).isEqualTo(Arrays.copyOfRange(big, 1_000_000, BIG));
            c.logout();
            c.disconnect();
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void clientClosingTheControlConnectionMidTransferEndsEverything() throws Exception {
        try (GatewayUnderTest gw = gateway()) {
            RawFtpClient c = RawFtpClient.loggedIn(gw.address());
            c.command("TYPE I");
            try (Socket d = data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(d.getInputStream().readNBytes(1024)).hasSize(1024);
                c.close();
                assertThat(drain(d.getInputStream())).as("the data connection ends too").isLessThan(BIG);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void serverClosingTheControlConnectionIsPassedOn() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = gateway(server.upstream(), Map.of());
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            server.on("PWD", (p, a) -> {
                p.reply("421 Server going down for maintenance");
                p.close();
            });
            Reply r = c.command("PWD");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("going down");
            assertThat(c.isClosedByPeer()).isTrue();
            gw.awaitNoSessionsNorLeases();
        }
    }

    interface AfterReset {
        void run(ScriptedFtpServer.Peer p) throws Exception;
    }

    /** RETR: 150, 100 000 bytes, a data connection reset mid-transfer, then {@code after}. */
    static ScriptedFtpServer.Step sendThenResetData(AfterReset after) {
        return (p, a) -> {
            p.reply("150 here it comes");
            Socket s = p.acceptData();
            s.getOutputStream().write(new byte[100_000]);
            Thread.sleep(100); // let the gateway relay it: the reset comes mid-transfer
            s.setSoLinger(true, 0);
            s.close();
            after.run(p);
        };
    }

    @Test
    void dataLegResetByTheServerIsNotReportedAsSuccess() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = gateway(server.upstream(), Map.of());
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            server.on("RETR", sendThenResetData(p -> p.reply("426 Connection reset, transfer aborted")));
            try (Socket d = data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(drain(d.getInputStream())).isLessThanOrEqualTo(100_000);
            }
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(426);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            gw.awaitNoLeases();
        }
    }

    @Test
    void serverDyingMidRetrEndsTheSessionWithoutHanging() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = gateway(server.upstream(), Map.of());
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            server.on("RETR", sendThenResetData(ScriptedFtpServer.Peer::reset));
            try (Socket d = data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(drain(d.getInputStream())).isLessThanOrEqualTo(100_000);
            }
            assertNoSuccess(c);
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void clientResettingItsDataConnectionMidUploadIsNotAStoredFile() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = gateway(server.upstream(), Map.of());
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            server.on("STOR", (p, a) -> {
                p.reply("150 ready to receive");
                try {
                    server.files.put(a, p.receiveData());
                    p.reply("226 transfer complete");
                } catch (IOException reset) {
                    p.reply("426 connection reset, file discarded");
                }
            });
            Socket d = data(gw, c.command("PASV"));
            assertThat(c.command("STOR upload.bin").code()).isEqualTo(150);
            d.getOutputStream().write(new byte[100_000]);
            d.getOutputStream().flush();
            Thread.sleep(100); // the first bytes reach the server
            d.setSoLinger(true, 0);
            d.close();
            Reply r = c.read();
            assertThat(r.code()).as("an aborted upload is no success: %s", r).isNotEqualTo(226);
            assertThat(server.files).as("no truncated file stored as complete").doesNotContainKey("upload.bin");
            assertThat(gw.refusedCount("data_reset")).isEqualTo(1.0);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            gw.awaitNoLeases();
        }
    }

    /** Whatever follows on the control connection is not a 2xx: a 4xx reply or the end. */
    static void assertNoSuccess(RawFtpClient c) {
        try {
            Reply r = c.read();
            assertThat(r.code()).as(r.text()).isBetween(400, 499);
        } catch (IOException closed) {
            assertThat(closed.getMessage()).contains("closed");
        }
    }

    @Test
    void firewallFailureGives425AndLeavesNoLease() throws Exception {
        try (GatewayUnderTest gw = gateway(); RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("TYPE I").code()).isEqualTo(200);
            gw.firewall.failApply(true);
            for (String cmd : new String[] {"PASV", "EPSV"}) {
                Reply r = c.command(cmd);
                assertThat(r.code()).isEqualTo(425);
                assertThat(r.text()).contains("firewall");
            }
            assertThat(c.command("RETR hello.txt").code()).as("nothing negotiated").isEqualTo(425);
            assertThat(gw.firewall.active()).isEmpty();
            gw.firewall.failApply(false);
            Socket d = data(gw, c.command("PASV"));
            assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
            assertThat(new String(d.getInputStream().readAllBytes())).isEqualTo("hello through the gateway\n");
            d.close();
            assertThat(c.read().code()).isEqualTo(226);
            gw.awaitNoLeases();
        }
    }

    @Test
    void idleControlSessionGets421() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:" + ftp.port(), Map.of("ftpgate.control.idle-timeout", "1s"));
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("Idle timeout");
            assertThat(c.isClosedByPeer()).isTrue();
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void slowTransferOutlastsTheIdleTimeout() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = gateway(server.upstream(), Map.of("ftpgate.control.idle-timeout", "1s"));
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            server.on("RETR", (p, a) -> {
                p.reply("150 slowly");
                try (Socket s = p.acceptData()) {
                    for (int i = 0; i < 8; i++) {
                        s.getOutputStream().write(new byte[1000]);
                        Thread.sleep(200);
                    }
                }
                p.reply("226 done at last");
            });
            try (Socket d = data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR slow.bin").code()).isEqualTo(150);
                assertThat(drain(d.getInputStream())).isEqualTo(8000);
            }
            assertThat(c.read().code()).isEqualTo(226);
            assertThat(c.command("NOOP").code()).as("still open after 1.6 s of quiet control").isEqualTo(200);
        }
    }

    @Test
    void sessionLimitRefusesTheNextClientWith421() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:" + ftp.port(), Map.of("ftpgate.control.max-sessions", 1))) {
            RawFtpClient first = RawFtpClient.loggedIn(gw.address());
            try (RawFtpClient second = new RawFtpClient(gw.address())) {
                Reply r = second.read();
                assertThat(r.code()).isEqualTo(421);
                assertThat(r.text()).contains("too many sessions");
                assertThat(second.isClosedByPeer()).isTrue();
            }
            assertThat(first.command("NOOP").code()).isEqualTo(200);
            assertThat(first.command("QUIT").code()).isEqualTo(221);
            first.close();
            gw.awaitNoSessionsNorLeases();
            try (RawFtpClient third = RawFtpClient.loggedIn(gw.address())) {
                assertThat(third.command("NOOP").code()).as("room again").isEqualTo(200);
            }
        }
    }
}
