package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A negotiation cancelled (ABOR) while its firewall lease is still being opened: the client gets
 * exactly one final reply per command, in order — a 425 for the PASV/PORT, then the server's reply
 * to ABOR — the session goes on at once, and no lease is left.
 */
class CancelledNegotiationTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    final io.ftpgate.testing.NettyWarnings nettyWarnings = new io.ftpgate.testing.NettyWarnings();
    ScriptedFtpServer server;
    GatewayUnderTest gw;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.on("ABOR", (p, a) -> p.reply("225 no transfer to abort"));
    }

    @AfterEach
    void stop() {
        gw.firewall.releaseApplies();
        gw.close();
        server.close();
    }

    /** PORT with the server leg kept active: the gateway's listener for the server needs a lease first. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PASV", "EPSV", "PORT 127,0,0,1,200,10"})
    void aborWhileTheLeaseIsOpeningAnswersBothInOrder(String command) throws Exception {
        java.util.Map<String, Object> settings = new java.util.HashMap<>(HostileServerTest.FAST);
        settings.put("ftpgate.data.active-to-passive", false);
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), settings);
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            run(c, command);
        }
    }

    private void run(RawFtpClient c, String command) throws Exception {
        gw.firewall.holdApplies();
        c.send(command);
        assertThat(gw.firewall.awaitHeldApply()).as("a lease is being applied").isTrue();
        c.send("ABOR");
        await().atMost(Duration.ofSeconds(5)).until(() -> server.verbs().contains("ABOR"));
        Thread.sleep(200); // the server's 225 reaches the gateway before the lease does
        gw.firewall.releaseApplies();
        Reply negotiation = c.read();
        assertThat(negotiation.code()).as(negotiation.text()).isEqualTo(425);
        assertThat(negotiation.text()).contains("cancelled");
        assertThat(c.read().code()).as("ABOR's own reply, after the negotiation's").isEqualTo(225);
        assertThat(c.command("NOOP").code()).isEqualTo(200);
        gw.awaitNoLeases();
        assertThat(gw.refusedCount("negotiation_cancelled")).isEqualTo(1);
    }

    /** The lease's acknowledgement arrives after the session ended: the rule is removed, nothing is left. */
    @org.junit.jupiter.api.Test
    void leaseAcknowledgedAfterTheSessionEnded() throws Exception {
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), HostileServerTest.FAST);
        RawFtpClient c = RawFtpClient.loggedIn(gw.address());
        gw.firewall.holdApplies();
        c.send("PASV");
        assertThat(gw.firewall.awaitHeldApply()).as("a lease is being applied").isTrue();
        c.resetClose();
        await().atMost(Duration.ofSeconds(2)).until(() -> gw.gateway.activeSessions() == 0);
        gw.firewall.releaseApplies();
        await().atMost(Duration.ofSeconds(2)).until(() -> !gw.firewall.applied().isEmpty());
        gw.awaitNoSessionsNorLeases();
        assertThat(gw.firewall.revoked()).as("the late lease was removed").containsAll(gw.firewall.applied());
    }

    /** A firewall backend that throws (a bug, not a refusal): the client gets 425, the session goes on. */
    @org.junit.jupiter.api.Test
    void aFirewallThatThrowsGives425AndTheSessionGoesOn() throws Exception {
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), HostileServerTest.FAST);
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            gw.firewall.throwOnApply(new IllegalStateException("injected backend fault"));
            Reply r = c.command("PASV");
            assertThat(r.code()).as(r.text()).isEqualTo(425);
            gw.firewall.throwOnApply(null);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }
}
