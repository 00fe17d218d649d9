package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.gateway.GatewayTransferTest.Mode;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Commons Net or raw client → ftpgate → a scripted upstream that misbehaves: unreachable, mute,
 * garbage replies, replies in awkward pieces, private or broken passive addresses, no EPSV. What
 * the user sees is a clear reply; nothing hangs, no session or lease is left.
 */
class HostileServerTest {
    static final Map<String, Object> FAST = Map.of(
            "ftpgate.data.connect-timeout", "1s",
            "ftpgate.control.idle-timeout", "2s",
            "ftpgate.control.upstream-connect-timeout", "1s");

    ScriptedFtpServer server;
    GatewayUnderTest gw;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.files.put("hello.txt", "hello from the scripted server\n".getBytes(StandardCharsets.US_ASCII));
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), FAST);
    }

    @AfterEach
    void stop() {
        gw.close();
        server.close();
    }

    static GatewayUnderTest gateway(String upstream, Map<String, Object> extra) throws Exception {
        Map<String, Object> m = new HashMap<>(FAST);
        m.putAll(extra);
        return new GatewayUnderTest("127.0.0.1:0", upstream, m);
    }

    static String retrieve(FTPClient c, String name) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(c.retrieveFile(name, out)).as(c.getReplyString()).isTrue();
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void unreachableServerGives421() throws Exception {
        int closed = EmbeddedFtpServer.freePort();
        try (GatewayUnderTest g = gateway("127.0.0.1:" + closed, Map.of());
             RawFtpClient c = new RawFtpClient(g.address())) {
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("cannot reach the FTP server");
            assertThat(c.isClosedByPeer()).isTrue();
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void serverWhoseAcceptQueueIsFullGives421AfterTheConnectTimeout() throws Exception {
        // Linux drops SYNs to a listener whose accept queue is full: the connect hangs.
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            java.util.List<java.net.Socket> fillers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    java.net.Socket f = new java.net.Socket();
                    try {
                        f.connect(full.getLocalSocketAddress(), 200);
                    } catch (java.io.IOException timedOut) {
                        // the queue is full already
                    }
                    fillers.add(f);
                }
                try (GatewayUnderTest g = gateway("127.0.0.1:" + full.getLocalPort(), Map.of());
                     RawFtpClient c = new RawFtpClient(g.address())) {
                    long t0 = System.nanoTime();
                    Reply r = c.read();
                    assertThat(r.code()).isEqualTo(421);
                    assertThat(r.text()).contains("cannot reach the FTP server");
                    assertThat((System.nanoTime() - t0) / 1_000_000).as("ms, upstream-connect-timeout is 1 s")
                            .isBetween(500L, 3000L);
                    g.awaitNoSessionsNorLeases();
                }
            } finally {
                for (java.net.Socket f : fillers) {
                    f.close();
                }
            }
        }
    }

    @Test
    void serverThatNeverGreetsIsReportedAsMute() throws Exception {
        server.on("", (p, a) -> { });
        try (GatewayUnderTest g = gateway(server.upstream(), Map.of("ftpgate.control.idle-timeout", "1s"));
             RawFtpClient c = new RawFtpClient(g.address())) {
            Reply r = c.read(); // within the 1 s idle timeout, well before the 5 s read timeout
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("the FTP server did not answer");
            assertThat(c.isClosedByPeer()).isTrue();
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void serverThatNeverAnswersACommandIsReportedAsMute() throws Exception {
        server.on("PWD", (p, a) -> { });
        try (GatewayUnderTest g = gateway(server.upstream(), Map.of("ftpgate.control.idle-timeout", "1s"));
             RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            Reply r = c.command("PWD");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("the FTP server did not answer");
            assertThat(c.isClosedByPeer()).isTrue();
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void serverThatVanishesWithoutAReplyIsReportedWith421() throws Exception {
        server.on("PWD", (p, a) -> p.close());
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("PWD");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("the FTP server closed the connection");
            assertThat(c.isClosedByPeer()).isTrue();
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void greetingRefusalIsPassedOnAndEndsTheSession() throws Exception {
        server.on("", (p, a) -> p.reply("421 Too many users, try later"));
        try (RawFtpClient c = new RawFtpClient(gw.address())) {
            Reply r = c.read();
            assertThat(r.lines()).containsExactly("421 Too many users, try later");
            assertThat(c.isClosedByPeer()).isTrue();
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void replyWithTooManyLinesEndsTheSessionWith421() throws Exception {
        try (GatewayUnderTest g = gateway(server.upstream(), Map.of("ftpgate.control.max-reply-lines", 50));
             RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            server.on("STAT", (p, a) -> p.raw("211-status\r\n" + " line\r\n".repeat(1000) + "211 end\r\n"));
            Reply r = c.command("STAT");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("invalid reply");
            assertThat(c.isClosedByPeer()).isTrue();
            g.awaitNoSessionsNorLeases();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"no code", "huge line", "NUL", "code out of range", "bad delimiter"})
    void invalidReplyEndsTheSessionWith421(String kind) throws Exception {
        String bad = switch (kind) {
            case "no code" -> "hello, this is not a reply\r\n";
            case "huge line" -> "257 " + "x".repeat(100_000) + "\r\n";
            case "NUL" -> "257 \"/\" is\0 here\r\n";
            case "code out of range" -> "999 what\r\n";
            default -> "257/\"/\"\r\n";
        };
        server.on("PWD", (p, a) -> p.raw(bad));
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("PWD");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("invalid reply");
            assertThat(c.isClosedByPeer()).isTrue();
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void multiLineReplyOneBytePerSegmentArrivesIntact() throws Exception {
        server.on("HELP", (p, a) -> p.dribble("214-The following commands are recognized:\r\n"
                + " USER PASS RETR\r\n214 Direct comments to nobody\r\n"));
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("HELP");
            assertThat(r.code()).isEqualTo(214);
            assertThat(r.lines()).containsExactly("214-The following commands are recognized:",
                    " USER PASS RETR", "214 Direct comments to nobody");
            assertThat(c.command("NOOP").code()).as("the session goes on").isEqualTo(200);
        }
    }

    @Test
    void replySplitBetweenCrAndLf() throws Exception {
        server.on("PWD", (p, a) -> {
            p.raw("257 \"/split\" is current\r");
            Thread.sleep(50);
            p.raw("\n");
        });
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("PWD");
            assertThat(r.lines()).containsExactly("257 \"/split\" is current");
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
    }

    @Test
    void privateAddressIn227IsReplacedByTheServersAddress() throws Exception {
        server.on("EPSV", (p, a) -> p.reply("500 EPSV not understood"));
        server.on("PASV", (p, a) -> p.replyPassive("10.1.2.3"));
        FTPClient c = GatewayTransferTest.connect(gw, Mode.PASV);
        assertThat(retrieve(c, "hello.txt")).isEqualTo("hello from the scripted server\n");
        c.logout();
        c.disconnect();
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void serverWithoutEpsvFallsBackToPasvAndClientEpsvStillWorks() throws Exception {
        server.on("EPSV", (p, a) -> p.reply("500 EPSV not understood"));
        FTPClient c = GatewayTransferTest.connect(gw, Mode.EPSV);
        assertThat(retrieve(c, "hello.txt")).isEqualTo("hello from the scripted server\n");
        assertThat(retrieve(c, "hello.txt")).as("second time without trying EPSV").isNotEmpty();
        c.logout();
        c.disconnect();
        assertThat(server.verbs()).containsSubsequence("EPSV", "PASV", "RETR", "PASV", "RETR");
        assertThat(server.verbs().stream().filter("EPSV"::equals)).as("EPSV tried once").hasSize(1);
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void passivePortTheServerDoesNotListenOnGives425OnTheTransferCommand() throws Exception {
        int closed = EmbeddedFtpServer.freePort();
        int dead = closed;
        server.on("EPSV", (p, a) -> p.reply("229 Entering Extended Passive Mode (|||" + dead + "|)"));
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("PASV"));
            try (java.net.Socket data = new java.net.Socket(gw.address().getAddress(), port)) {
                data.setSoTimeout(5000);
                assertThat(data.getInputStream().read()).as("closed when the server leg fails").isEqualTo(-1);
            }
            Reply r = c.command("RETR hello.txt");
            assertThat(r.code()).isEqualTo(425);
            assertThat(r.text()).as("says what went wrong, not 'use PASV first'").contains("Can't open data connection")
                    .doesNotContain(String.valueOf(dead));
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(server.verbs()).doesNotContain("RETR");
        gw.awaitNoSessionsNorLeases();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"229 Entering Extended Passive Mode (|||99999|)", "229 no address here",
            "227 Entering Passive Mode (1,2,3)", "227 Entering Passive Mode (127,0,0,1,300,1)"})
    void garbagePassiveReplyGives425(String garbage) throws Exception {
        if (garbage.startsWith("227")) {
            server.on("EPSV", (p, a) -> p.reply("502 no EPSV"));
            server.on("PASV", (p, a) -> p.reply(garbage));
        } else {
            server.on("EPSV", (p, a) -> p.reply(garbage));
        }
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("PASV");
            assertThat(r.code()).isEqualTo(425);
            assertThat(r.text()).contains("passive reply was invalid");
            assertThat(c.command("RETR hello.txt").code()).as("no data connection negotiated").isEqualTo(425);
            assertThat(c.command("NOOP").code()).as("the session goes on").isEqualTo(200);
            // The gateway's own port is leased for the client while the server answers (nothing
            // the server says goes into a lease); the broken reply revokes it, the session goes on.
            gw.awaitNoLeases();
        }
        assertThat(gw.firewall.applied()).as("at most the client's lease of the gateway's port").hasSizeLessThanOrEqualTo(1)
                .allMatch(l -> l.peer().isLoopbackAddress());
        gw.awaitNoSessionsNorLeases();
    }

    /**
     * RFC 2577 §3 / OpenBSD ftp-proxy: a passive reply naming a port below 1024 (ssh, smtp...) is
     * refused whichever reply and family carries it: no connection to it, no lease, a 425 that says
     * why, a counted reason. The gateway asks for EPSV first, so the 229 path matters most.
     */
    @ParameterizedTest(name = "{0} over {1}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = ';', value = {
            "229 Entering Extended Passive Mode (|||%d|); 127.0.0.1",
            "229 Entering Extended Passive Mode (|||%d|); ::1",
            "227 Entering Passive Mode (127,0,0,1,%s); 127.0.0.1",
    })
    void passiveReplyNamingAPrivilegedPortIsRefused(String reply, String family) throws Exception {
        ServerSocket trap = null;
        int port = 22;
        try {
            try {
                trap = new ServerSocket(0, 1, InetAddress.getByName(family));
                trap.close();
                // As root, a real listener on a privileged port shows that nothing connects to it.
                trap = new ServerSocket(1000 + (int) (Math.random() * 23), 1, InetAddress.getByName(family));
                trap.setSoTimeout(300);
                port = trap.getLocalPort();
            } catch (java.io.IOException notRoot) {
                trap = null;
            }
            int fPort = port;
            String text = reply.startsWith("227") ? String.format(reply, port / 256 + "," + port % 256) : String.format(reply, port);
            try (ScriptedFtpServer s = new ScriptedFtpServer(family)) {
                if (text.startsWith("227")) {
                    s.on("EPSV", (p, a) -> p.reply("502 no EPSV"));
                    s.on("PASV", (p, a) -> p.reply(text));
                } else {
                    s.on("EPSV", (p, a) -> p.reply(text));
                }
                String listen = family.contains(":") ? "[::1]:0" : "127.0.0.1:0";
                Map<String, Object> m = new HashMap<>(FAST);
                try (GatewayUnderTest g = new GatewayUnderTest(listen, s.upstream(), m);
                     RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
                    Reply r = c.command(family.contains(":") ? "EPSV" : "PASV");
                    assertThat(r.code()).isEqualTo(425);
                    assertThat(r.text()).contains("privileged port (" + port + ")");
                    assertThat(c.command("NOOP").code()).as("the session goes on").isEqualTo(200);
                    // At most the client's lease of the gateway's own port, opened while the server
                    // answered, and revoked with the refusal: nothing names the refused port.
                    g.awaitNoLeases();
                    assertThat(g.firewall.applied()).as("no lease for a refused port").hasSizeLessThanOrEqualTo(1)
                            .noneMatch(l -> l.port() == fPort);
                    assertThat(g.refusedCount("privileged_passive_port")).isEqualTo(1.0);
                }
                if (trap != null) {
                    final ServerSocket t = trap;
                    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> t.accept().close()))
                            .as("the gateway never connected to the privileged port")
                            .isInstanceOf(java.net.SocketTimeoutException.class);
                }
            }
        } finally {
            if (trap != null) {
                trap.close();
            }
        }
    }
}
