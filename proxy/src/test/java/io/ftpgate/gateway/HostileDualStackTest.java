package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.ConnectionBurst;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile input over IPv6 as well as IPv4 (loopback 127.0.0.1 and ::1): EPRT/PORT naming a third
 * host, a privileged port or the other family (v4-mapped IPv6 included), passive replies naming a
 * foreign host, floods of data commands and of sessions. Each asserts the reply, the counter by
 * reason, that nothing reached the server that should not, and that no firewall lease is left.
 */
class HostileDualStackTest {
    ScriptedFtpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    GatewayUnderTest gateway(String serverAddress, String listen, Map<String, Object> extra) throws Exception {
        server = new ScriptedFtpServer(serverAddress);
        server.files.put("hello.txt", HostileClientTest.HELLO);
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.putAll(extra);
        return new GatewayUnderTest(listen, server.upstream(), m);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = ';', value = {
            "127.0.0.1:0 ; EPRT |1|127.0.0.2|50000|        ; 504 ; bounce",
            "127.0.0.1:0 ; PORT 127,0,0,2,195,80            ; 504 ; bounce",
            "127.0.0.1:0 ; EPRT |1|127.0.0.1|80|            ; 504 ; privileged_port",
            "127.0.0.1:0 ; EPRT |2|::1|50000|               ; 522 ; family_mismatch",
            "[::1]:0     ; EPRT |2|2001:db8::1|50000|       ; 504 ; bounce",
            "[::1]:0     ; EPRT |2|::2|50000|               ; 504 ; bounce",
            "[::1]:0     ; EPRT |2|::1|80|                  ; 504 ; privileged_port",
            "[::1]:0     ; EPRT |2|::ffff:127.0.0.1|50000|  ; 522 ; family_mismatch",
            "[::1]:0     ; EPRT |1|127.0.0.1|50000|         ; 522 ; family_mismatch",
            "[::1]:0     ; PORT 127,0,0,1,195,80            ; 522 ; family_mismatch"})
    void activeModeNamingAnotherHostPortOrFamilyIsRefused(String listen, String command, int code, String reason)
            throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1", listen, Map.of())) {
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                Reply r = c.command(command);
                assertThat(r.code()).as(r.text()).isEqualTo(code);
                assertThat(c.command("RETR hello.txt").code()).as("nothing negotiated").isEqualTo(425);
                assertThat(c.command("NOOP").code()).isEqualTo(200);
            }
            assertThat(gw.refusedCount(reason)).isEqualTo(1.0);
            assertThat(server.verbs()).containsExactly("USER", "PASS", "NOOP");
            assertThat(gw.firewall.applied()).isEmpty();
            gw.awaitNoSessionsNorLeases();
        }
    }

    /** RFC 2428 §3: a 229 carries no address; one that names a host (a third one) is not followed. */
    @ParameterizedTest(name = "server on {0}: {1}")
    @CsvSource(delimiter = ';', value = {
            "127.0.0.1 ; 229 Entering Extended Passive Mode (|1|192.0.2.9|50000|)",
            "::1       ; 229 Entering Extended Passive Mode (|2|2001:db8::9|50000|)",
            "::1       ; 229 Entering Extended Passive Mode (|||50000|)(|||22|)",
            "::1       ; 229 Entering Extended Passive Mode (|||0000022|)"})
    void passiveRepliesNamingAForeignHostOrAForgedPortAreRefused(String serverAddress, String reply) throws Exception {
        String listen = serverAddress.contains(":") ? "[::1]:0" : "127.0.0.1:0";
        try (GatewayUnderTest gw = gateway(serverAddress, listen, Map.of())) {
            server.on("EPSV", (p, a) -> p.reply(reply));
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                Reply r = c.command("EPSV");
                assertThat(r.code()).as(r.text()).isEqualTo(425);
                assertThat(r.text()).contains("passive reply was invalid");
                assertThat(c.command("NOOP").code()).isEqualTo(200);
                // The client's lease of the gateway's own port, opened while the server answered,
                // goes with the refusal; nothing the server named is leased.
                gw.awaitNoLeases();
            }
            assertThat(gw.refusedCount("bad_passive_reply")).isEqualTo(1.0);
            assertThat(gw.firewall.applied()).hasSizeLessThanOrEqualTo(1).noneMatch(l -> l.port() == 50000 || l.port() == 22);
            gw.awaitNoSessionsNorLeases();
        }
    }

    /** A 227 naming a third host: the gateway connects to the server's own address, never there. */
    @Test
    void a227NamingAThirdHostIsSentToTheServersOwnAddress() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1", "127.0.0.1:0", Map.of())) {
            server.on("EPSV", (p, a) -> p.reply("502 no EPSV"));
            server.on("PASV", (p, a) -> p.replyPassive("192.0.2.9"));
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                Reply pasv = c.command("PASV");
                assertThat(pasv.code()).isEqualTo(227);
                assertThat(pasv.text()).contains("(127,0,0,1,").doesNotContain("192,0,2,9");
                try (Socket data = new Socket(gw.address().getAddress(), RawFtpClient.passivePort(pasv))) {
                    assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
                    assertThat(data.getInputStream().readAllBytes()).isEqualTo(HostileClientTest.HELLO);
                }
                assertThat(c.read().code()).isEqualTo(226);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }

    /** 300 pipelined data commands: each replaces the one before, at most one lease is ever left. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"127.0.0.1:0, PASV", "[::1]:0, EPSV", "[::1]:0, EPRT"})
    void aFloodOfDataCommandsLeavesNoLease(String listen, String verb) throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1", listen, Map.of())) {
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                String line = verb.equals("EPRT") ? "EPRT |2|::1|" + c.localAddress().getPort() + "|" : verb;
                c.sendRaw((line + "\r\n").repeat(300).getBytes(StandardCharsets.US_ASCII));
                int expected = switch (verb) {
                    case "PASV" -> 227;
                    case "EPSV" -> 229;
                    default -> 200;
                };
                for (int i = 0; i < 300; i++) {
                    assertThat(c.read().code()).as("reply %d", i).isEqualTo(expected);
                }
                assertThat(c.command("NOOP").code()).isEqualTo(200);
                assertThat(gw.firewall.active().size()).as("leases of replaced negotiations are gone").isLessThanOrEqualTo(1);
                assertThat(c.command("QUIT").code()).isEqualTo(221);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }

    /** A burst of IPv6 sessions against control.max-sessions: exactly the limit gets in. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void aFloodOfSessionsGetsExactlyTheGatewayLimit(String listen) throws Exception {
        int limit = 10;
        int burst = 60;
        try (GatewayUnderTest gw = gateway("127.0.0.1", listen, Map.of("ftpgate.control.max-sessions", limit))) {
            try (ConnectionBurst b = ConnectionBurst.open(gw.address(), burst)) {
                assertThat(b.count(220)).isEqualTo(limit);
                assertThat(b.count(421)).isEqualTo(burst - limit);
                assertThat(gw.refusedCount("gateway_full")).isEqualTo(burst - limit);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }
}
