package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failed logins per client address (abuse.login-failures), over IPv4 and IPv6: after the limit the
 * session that hit it gets 421 to its next USER, new sessions of that address get 421 at once,
 * other addresses log in, the ban ends by itself and survives a reload.
 */
class LoginBanTest {
    ScriptedFtpServer server;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.on("PASS", (p, a) -> p.reply(a.equals("good") ? "230 logged in" : "530 Login incorrect"));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static Map<String, Object> settings(String listen, String upstream, String ban) {
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.put("ftpgate.listeners.test.listen", List.of(listen));
        m.put("ftpgate.listeners.test.upstream", upstream);
        m.put("ftpgate.metrics.listen", "");
        m.put("ftpgate.abuse.login-failures.limit", 3);
        m.put("ftpgate.abuse.login-failures.window", "1m");
        m.put("ftpgate.abuse.login-failures.ban", ban);
        return m;
    }

    static void failLogin(RawFtpClient c) throws Exception {
        assertThat(c.command("USER someone").code()).isEqualTo(331);
        assertThat(c.command("PASS wrong").code()).isEqualTo(530);
    }

    double bans(GatewayUnderTest gw) {
        var c = gw.gateway.meterRegistry().find("ftpgate.client.bans").counter();
        return c == null ? 0 : c.count();
    }

    @ParameterizedTest(name = "listening on {0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void theLimitBansTheAddressForTheBanPeriod(String listen) throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest(listen, server.upstream(), settings(listen, server.upstream(), "2s"))) {
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(220);
                failLogin(c);
                failLogin(c);
                assertThat(bans(gw)).isZero();
                failLogin(c); // the third: banned from now on
                assertThat(bans(gw)).isEqualTo(1.0);
                Reply r = c.command("USER someone");
                assertThat(r.code()).isEqualTo(421);
                assertThat(r.text()).contains("too many failed logins from your address; try again in 2 s");
                assertThat(c.isClosedByPeer()).isTrue();
            }
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                Reply r = c.read();
                assertThat(r.code()).as("a new session of the banned address").isEqualTo(421);
                assertThat(r.text()).contains("too many failed logins");
                assertThat(c.isClosedByPeer()).isTrue();
            }
            assertThat(gw.refusedCount("login_banned")).isEqualTo(2.0);
            assertThat(server.verbs().stream().filter(v -> v.equals("USER"))).as("never reached the server").hasSize(3);

            await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(200)).until(() -> {
                try (RawFtpClient c = new RawFtpClient(gw.address())) {
                    return c.read().code() == 220;
                }
            });
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(220);
                assertThat(c.command("USER someone").code()).isEqualTo(331);
                assertThat(c.command("PASS good").code()).as("the ban is over").isEqualTo(230);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void anotherAddressStillLogsIn() throws Exception {
        Map<String, Object> m = settings("0.0.0.0:0", server.upstream(), "1m");
        try (GatewayUnderTest gw = new GatewayUnderTest("0.0.0.0:0", server.upstream(), m)) {
            InetAddress banned = InetAddress.getByName("127.0.0.1");
            InetAddress other = InetAddress.getByName("127.0.0.2");
            try (RawFtpClient c = new RawFtpClient(gw.address(), banned)) {
                assertThat(c.read().code()).isEqualTo(220);
                for (int i = 0; i < 3; i++) {
                    failLogin(c);
                }
            }
            try (RawFtpClient c = new RawFtpClient(gw.address(), banned)) {
                assertThat(c.read().code()).isEqualTo(421);
            }
            try (RawFtpClient c = new RawFtpClient(gw.address(), other)) {
                assertThat(c.read().code()).isEqualTo(220);
                failLogin(c);
                assertThat(c.command("USER someone").code()).isEqualTo(331);
                assertThat(c.command("PASS good").code()).isEqualTo(230);
            }
        }
    }

    @Test
    void aRunningSessionOfABannedAddressCannotTryAgain() throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(),
                settings("127.0.0.1:0", server.upstream(), "1m"));
             RawFtpClient earlier = new RawFtpClient(gw.address())) {
            assertThat(earlier.read().code()).isEqualTo(220);
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(220);
                for (int i = 0; i < 3; i++) {
                    failLogin(c);
                }
            }
            Reply r = earlier.command("USER someone");
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("try again in 60 s");
        }
    }

    @Test
    void theBanListSurvivesAReload() throws Exception {
        Map<String, Object> m = settings("127.0.0.1:0", server.upstream(), "1m");
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), m)) {
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(220);
                for (int i = 0; i < 3; i++) {
                    failLogin(c);
                }
            }
            Map<String, Object> next = new HashMap<>(m);
            next.put("ftpgate.abuse.login-failures.limit", 5);
            gw.gateway.reload(GatewayUnderTest.settings(next));
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(421);
            }
        }
    }
}
