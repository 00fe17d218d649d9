package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The strict engine (RFC 959 §5.4, control.unexpected-replies): a server reply that no outstanding
 * command asked for, or whose code cannot answer it, never reaches the client; the client gets a 421
 * that says why (or, with drop, the session goes on as if it had not been sent), and it is counted.
 * What real servers do legitimately (1xx then 426, then ABOR's 226; a 421 at any time) goes through.
 */
class StrictRepliesTest {
    ScriptedFtpServer server;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private GatewayUnderTest gateway(Map<String, Object> extra) throws Exception {
        return HostileServerTest.gateway(server.upstream(), extra);
    }

    @Test
    void repliesSentRightAfterTheGreetingEndTheSessionBeforeTheClientSeesThem() throws Exception {
        // The desynchronisation attack: without the check, USER would be answered by the 227,
        // PASS by the 150, and the client would be shown an address the server chose.
        server.on("", (p, a) -> p.reply("220 ready", "227 Entering Passive Mode (192,0,2,9,4,1)",
                "150 here it comes", "226 done"));
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = new RawFtpClient(g.address())) {
            assertThat(c.read().code()).isEqualTo(220);
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("not asked for").contains("227");
            assertThat(c.isClosedByPeer()).isTrue();
            assertThat(g.refusedCount("unsolicited_reply")).isEqualTo(1.0);
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void aPassiveReplyToUserEndsTheSession() throws Exception {
        server.on("USER", (p, a) -> p.reply("227 Entering Passive Mode (192,0,2,9,4,1)"));
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = new RawFtpClient(g.address())) {
            assertThat(c.read().code()).isEqualTo(220);
            Reply r = c.command("USER anonymous");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("227 in answer to USER");
            assertThat(r.lines()).noneMatch(l -> l.contains("192,0,2,9"));
            assertThat(g.refusedCount("unexpected_reply")).isEqualTo(1.0);
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void aPreliminaryReplyToACommandThatOpensNoDataConnectionEndsTheSession() throws Exception {
        server.on("NOOP", (p, a) -> p.reply("150 surprise", "200 NOOP ok"));
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            Reply r = c.command("NOOP");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("150 in answer to NOOP");
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void aSecondFinalReplyIsUnsolicited() throws Exception {
        server.on("NOOP", (p, a) -> p.reply("200 NOOP ok", "200 NOOP ok again"));
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("not asked for (200)");
            assertThat(g.refusedCount("unsolicited_reply")).isEqualTo(1.0);
        }
    }

    @Test
    void withDropTheSessionGoesOnInStep() throws Exception {
        server.on("", (p, a) -> p.reply("220 ready", "227 Entering Passive Mode (192,0,2,9,4,1)", "150 x", "226 y"));
        try (GatewayUnderTest g = gateway(Map.of("ftpgate.control.unexpected-replies", "drop"));
             RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            // USER got its 331 and PASS its 230 (loggedIn checks): nothing was off by three.
            assertThat(c.command("PWD").code()).isEqualTo(257);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            assertThat(g.refusedCount("unsolicited_reply")).isEqualTo(3.0);
        }
    }

    @Test
    void abortDuringATransferRelaysBothFinalRepliesInOrder() throws Exception {
        // RFC 959 §4.1.3: the aborted command gets 426, then ABOR its 226.
        server.on("RETR", (p, a) -> p.reply("150 opening data connection"));
        server.on("ABOR", (p, a) -> p.reply("426 transfer aborted", "226 ABOR successful"));
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            assertThat(c.command("EPSV").code()).isEqualTo(229);
            assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
            Reply transfer = c.command("ABOR");
            assertThat(transfer.code()).isEqualTo(426);
            Reply abort = c.read();
            assertThat(abort.code()).isEqualTo(226);
            assertThat(abort.lines()).containsExactly("226 ABOR successful");
            assertThat(c.command("NOOP").code()).isEqualTo(200);
            assertThat(g.refusedCount("unexpected_reply") + g.refusedCount("unsolicited_reply")).isZero();
        }
    }

    @Test
    void a421MayComeAtAnyTime() throws Exception {
        server.on("PWD", (p, a) -> {
            p.reply("421 shutting down");
            p.close();
        });
        try (GatewayUnderTest g = gateway(Map.of()); RawFtpClient c = RawFtpClient.loggedIn(g.address())) {
            Reply r = c.command("PWD");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.lines()).containsExactly("421 shutting down");
            assertThat(c.isClosedByPeer()).isTrue();
            assertThat(g.refusedCount("unexpected_reply") + g.refusedCount("unsolicited_reply")).isZero();
        }
    }
}
