package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A raw client that sends what real clients never do (huge, NUL, bare-LF and Telnet-laden lines,
 * pipelined commands, bounce PORTs, data connections from the wrong address or never) → ftpgate →
 * a scripted server. Each case asserts the reply the user sees and that the gateway cleans up.
 */
class HostileClientTest {
    static final byte[] HELLO = "hello from the scripted server\n".getBytes(StandardCharsets.US_ASCII);

    ScriptedFtpServer server;
    GatewayUnderTest gw;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.files.put("hello.txt", HELLO);
        server.on("ABOR", (p, a) -> p.reply("225 no transfer to abort"));
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), HostileServerTest.FAST);
    }

    @AfterEach
    void stop() {
        gw.close();
        server.close();
    }

    Socket dataSocket(int port) throws IOException {
        Socket s = new Socket(gw.address().getAddress(), port);
        s.setSoTimeout(5000);
        return s;
    }

    /** RETR hello.txt over an already negotiated passive port; asserts the whole exchange. */
    void retrieveHello(RawFtpClient c, int port) throws IOException {
        try (Socket data = dataSocket(port)) {
            assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
            assertThat(data.getInputStream().readAllBytes()).isEqualTo(HELLO);
        }
        assertThat(c.read().code()).isEqualTo(226);
    }

    @Test
    void overlongCommandLineGets500AndTheSessionGoesOn() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("NOOP " + "x".repeat(10 * 1024));
            assertThat(r.code()).isEqualTo(500);
            assertThat(r.text()).contains("too long");
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(server.received()).allSatisfy(l -> assertThat(l.length()).isLessThan(100));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "NUL          | NO\\0OP\\r\\n      | NUL",
            "bare LF      | NOOP\\n            | CRLF",
            "number       | 123 hello\\r\\n    | unrecognized",
            "0xFF bytes   | \\xff\\xff\\r\\n   | unrecognized",
            "empty line   | \\r\\n             | unrecognized",
            "stray CR     | RETR a\\rDELE b\\r\\n | unrecognized"})
    void badCommandLineGets500AndTheSessionGoesOn(String name, String line, String text) throws Exception {
        byte[] bytes = line.replace("\\0", "\0").replace("\\r", "\r").replace("\\n", "\n").replace("\\xff", "\u00ff")
                .getBytes(StandardCharsets.ISO_8859_1);
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            c.sendRaw(bytes);
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(500);
            assertThat(r.text()).contains(text);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(server.verbs()).containsExactly("USER", "PASS", "NOOP");
    }

    @Test
    void telnetInterruptBeforeAborIsStripped() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            // RFC 959 §4.1.3: IAC IP, IAC DM (the Telnet "Synch"), then ABOR.
            c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xf4, (byte) 0xff, (byte) 0xf2, 'A', 'B', 'O', 'R', '\r', '\n'});
            assertThat(c.read().code()).isEqualTo(225);
        }
        assertThat(server.received()).contains("ABOR");
    }

    @Test
    void escapedIacDataByteStaysEscapedTowardsTheServer() throws Exception {
        server.on("SITE", (p, a) -> p.reply("200 site ok"));
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            c.sendRaw(new byte[] {'S', 'I', 'T', 'E', ' ', 'x', (byte) 0xff, (byte) 0xff, 'y', '\r', '\n'});
            assertThat(c.read().code()).isEqualTo(200);
        }
        assertThat(server.received()).contains("SITE x\u00ff\u00ffy");
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        try (RawFtpClient c = new RawFtpClient(gw.address())) {
            c.sendRaw("USER anonymous\r\nPASS x@y\r\nPWD\r\nNOOP\r\nPASV\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            List<Integer> codes = new java.util.ArrayList<>();
            for (int i = 0; i < 7; i++) {
                codes.add(c.read().code());
            }
            assertThat(codes).containsExactly(220, 331, 230, 257, 200, 227, 221);
            assertThat(c.isClosedByPeer()).isTrue();
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void manyPipelinedCommandsAreAllAnswered() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            c.sendRaw("NOOP\r\n".repeat(200).getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 200; i++) {
                assertThat(c.read().code()).as("reply %d", i).isEqualTo(200);
            }
            assertThat(c.command("PWD").code()).isEqualTo(257);
        }
    }

    @Test
    void pasvAndRetrPipelinedBeforeTheDataConnection() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            c.sendRaw("PASV\r\nRETR hello.txt\r\n".getBytes(StandardCharsets.US_ASCII));
            Reply pasv = c.read();
            assertThat(pasv.code()).isEqualTo(227);
            try (Socket data = dataSocket(RawFtpClient.passivePort(pasv))) {
                assertThat(c.read().code()).isEqualTo(150);
                assertThat(data.getInputStream().readAllBytes()).isEqualTo(HELLO);
            }
            assertThat(c.read().code()).isEqualTo(226);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void shutdownEndsRunningSessionsWith421() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Thread closer = new Thread(gw::close);
            closer.start();
            Reply r = c.read(); // after the 1 s grace period
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("shutting down");
            assertThat(c.isClosedByPeer()).isTrue();
            closer.join(5000);
            assertThat(gw.gateway.activeSessions()).isZero();
            assertThat(gw.firewall.active()).isEmpty();
        }
    }

    @Test
    void portToAClientThatDoesNotListenIsNotReportedAsSuccess() throws Exception {
        int closed = EmbeddedFtpServer.freePort();
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection");
            try {
                p.sendData(HELLO);
            } catch (java.io.IOException reset) {
                // The gateway may already have reset the server's data connection: a real server
                // still answers on its control connection.
            }
            Thread.sleep(300); // the 226 comes after the gateway gave up on the client
            p.reply("226 transfer complete");
        });
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("PORT 127,0,0,1," + (closed >> 8) + "," + (closed & 255)).code()).isEqualTo(200);
            assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
            Reply r = c.read();
            assertThat(r.code()).as(r.text()).isBetween(425, 426);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            "PORT 127,0,0,2,195,80       ; 504 ; own address",
            "PORT 10,1,2,3,195,80        ; 504 ; own address",
            "PORT 127,0,0,1,0,20         ; 504 ; 1024",
            "EPRT |1|127.0.0.2|50000|    ; 504 ; own address",
            "EPRT |2|::1|50000|          ; 522 ; (1)",
            "EPRT |3|x|1|                ; 522 ; (1)",
            "PORT 1,2,3                  ; 501 ; Syntax error",
            "PORT 127,0,0,1,300,1        ; 501 ; Syntax error",
            "EPRT |1|127.0.0.1|          ; 501 ; Syntax error",
            "LPRT 4,4,127,0,0,1,2,195,80 ; 502 ; EPRT",
            "LPSV                        ; 502 ; EPSV",
            "EPSV 2                      ; 522 ; (1)",
            "EPSV x                      ; 501 ; Syntax error",
            "AUTH TLS                    ; 502 ; AUTH"})
    void refusedDataCommandNeverReachesTheServer(String command, int code, String text) throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command(command);
            assertThat(r.code()).as(r.text()).isEqualTo(code);
            assertThat(r.text()).contains(text);
            assertThat(c.command("RETR hello.txt").code()).as("nothing negotiated").isEqualTo(425);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(server.verbs()).containsExactly("USER", "PASS", "NOOP");
        assertThat(gw.firewall.applied()).isEmpty();
    }

    @Test
    void afterEpsvAllOnlyEpsvIsAllowed() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("EPSV ALL").code()).isEqualTo(200);
            assertThat(c.command("PASV").code()).isEqualTo(503);
            assertThat(c.command("PORT 127,0,0,1,195,80").code()).isEqualTo(503);
            Reply epsv = c.command("EPSV");
            assertThat(epsv.code()).isEqualTo(229);
            retrieveHello(c, RawFtpClient.passivePort(epsv));
        }
        assertThat(server.verbs()).doesNotContain("PASV", "PORT").contains("EPSV");
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void dataConnectionFromAnotherAddressIsClosedAndCounted() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("PASV"));
            try (Socket intruder = new Socket()) {
                intruder.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                intruder.connect(new InetSocketAddress(gw.address().getAddress(), port), 2000);
                intruder.setSoTimeout(5000);
                try {
                    assertThat(intruder.getInputStream().read()).as("closed at once").isEqualTo(-1);
                } catch (java.net.SocketException reset) {
                    // a reset is just as closed
                }
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> gw.refusedCount("wrong_peer") == 1.0);
            assertThat(gw.gateway.meterRegistry().scrape()).contains("ftpgate_refused_total{reason=\"wrong_peer\"} 1.0");
            retrieveHello(c, port);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void clientThatNeverConnectsLosesTheLeaseAtTheDeadline() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("PASV"));
            DataLease lease = gw.firewall.applied().get(0);
            assertThat(lease.port()).isEqualTo(port);
            await().atMost(Duration.ofSeconds(3)).until(() -> gw.firewall.active().isEmpty());
            assertThat(gw.firewall.revoked()).contains(lease);
            assertThatThrownBy(() -> dataSocket(port).close()).as("port closed").isInstanceOf(ConnectException.class);
            Reply r = c.command("RETR hello.txt");
            assertThat(r.code()).isEqualTo(425);
            assertThat(r.text()).contains("not made in time");
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(server.verbs()).doesNotContain("RETR");
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void secondPasvReplacesTheFirst() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int first = RawFtpClient.passivePort(c.command("PASV"));
            int second = RawFtpClient.passivePort(c.command("PASV"));
            assertThat(second).isNotEqualTo(first);
            DataLease firstLease = gw.firewall.applied().stream().filter(l -> l.port() == first).findFirst().orElseThrow();
            await().atMost(Duration.ofSeconds(2)).until(() -> gw.firewall.revoked().contains(firstLease));
            assertThatThrownBy(() -> dataSocket(first).close()).isInstanceOf(ConnectException.class);
            retrieveHello(c, second);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void refusedTransferCommandRemovesTheLease() throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("PASV"));
            try (Socket data = dataSocket(port)) {
                Reply r = c.command("RETR missing.txt");
                assertThat(r.code()).isEqualTo(550);
                assertThat(r.text()).contains("no such file");
                assertThat(data.getInputStream().read()).as("data connection closed").isEqualTo(-1);
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> gw.firewall.active().isEmpty());
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            retrieveHello(c, RawFtpClient.passivePort(c.command("PASV")));
        }
        gw.awaitNoSessionsNorLeases();
    }
}
