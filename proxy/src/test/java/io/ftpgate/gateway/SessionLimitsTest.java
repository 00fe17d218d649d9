package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.ConnectionBurst;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Concurrent sessions per client address and per IPv6 /64 (abuse.max-sessions-per-address,
 * abuse.max-sessions-per-ipv6-prefix), over IPv4 and IPv6 loopback: the refused client reads a 421
 * that says which limit, the refusal is counted by reason, other addresses are not affected, and a
 * burst of simultaneous connections never gets more sessions than the limit.
 */
class SessionLimitsTest {
    ScriptedFtpServer server;
    final List<RawFtpClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
    }

    @AfterEach
    void stop() throws IOException {
        for (RawFtpClient c : clients) {
            c.close();
        }
        server.close();
    }

    GatewayUnderTest gateway(String listen, Map<String, Object> abuse) throws Exception {
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.putAll(abuse);
        return new GatewayUnderTest(listen, server.upstream(), m);
    }

    RawFtpClient connect(GatewayUnderTest gw, InetAddress from) throws IOException {
        RawFtpClient c = new RawFtpClient(gw.address(), from);
        clients.add(c);
        return c;
    }

    @ParameterizedTest(name = "listening on {0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void oneSessionTooManyFromAnAddressGets421SayingSo(String listen) throws Exception {
        try (GatewayUnderTest gw = gateway(listen, Map.of("ftpgate.abuse.max-sessions-per-address", 2))) {
            for (int i = 0; i < 2; i++) {
                RawFtpClient c = connect(gw, null);
                assertThat(c.read().code()).isEqualTo(220);
            }
            RawFtpClient third = connect(gw, null);
            Reply r = third.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("too many sessions from your address (at most 2)");
            assertThat(third.isClosedByPeer()).isTrue();
            assertThat(gw.refusedCount("sessions_per_address")).isEqualTo(1.0);
            assertThat(gw.gateway.meterRegistry().scrape())
                    .contains("ftpgate_refused_total{reason=\"sessions_per_address\"} 1.0");

            clients.get(0).command("QUIT");
            org.awaitility.Awaitility.await().until(() -> gw.gateway.activeSessions() == 1);
            RawFtpClient again = connect(gw, null);
            assertThat(again.read().code()).as("a slot was given back").isEqualTo(220);
            assertThat(again.command("USER anonymous").code()).isEqualTo(331);
        }
    }

    @Test
    void anotherAddressIsNotCountedAgainstTheFirst() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", Map.of("ftpgate.abuse.max-sessions-per-address", 1,
                "ftpgate.listeners.test.listen", List.of("0.0.0.0:0")))) {
            InetAddress first = InetAddress.getByName("127.0.0.1");
            InetAddress second = InetAddress.getByName("127.0.0.2");
            assertThat(connect(gw, first).read().code()).isEqualTo(220);
            assertThat(connect(gw, second).read().code()).isEqualTo(220);
            assertThat(connect(gw, first).read().code()).isEqualTo(421);
            assertThat(connect(gw, second).read().code()).isEqualTo(421);
            assertThat(gw.refusedCount("sessions_per_address")).isEqualTo(2.0);
        }
    }

    @Test
    void ipv6SessionsAreAlsoLimitedPerSlash64() throws Exception {
        try (GatewayUnderTest gw = gateway("[::1]:0", Map.of("ftpgate.abuse.max-sessions-per-ipv6-prefix", 1))) {
            assertThat(connect(gw, null).read().code()).isEqualTo(220);
            Reply r = connect(gw, null).read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("too many sessions from your network ::/64 (at most 1)");
            assertThat(gw.refusedCount("sessions_per_prefix")).isEqualTo(1.0);
            assertThat(gw.refusedCount("sessions_per_address")).isZero();
        }
    }

    @Test
    void aBurstOfConnectionsGetsExactlyTheLimit() throws Exception {
        int limit = 5;
        int burst = 40;
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", Map.of("ftpgate.abuse.max-sessions-per-address", limit))) {
            try (ConnectionBurst b = ConnectionBurst.open(gw.address(), burst)) {
                assertThat(b.count(220)).isEqualTo(limit);
                assertThat(b.count(421)).isEqualTo(burst - limit);
                assertThat(gw.gateway.activeSessions()).isEqualTo(limit);
                assertThat(gw.refusedCount("sessions_per_address")).isEqualTo(burst - limit);
            }
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void aReloadAppliesNewLimitsToNewSessionsOnly() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", Map.of())) {
            for (int i = 0; i < 3; i++) {
                assertThat(connect(gw, null).read().code()).isEqualTo(220);
            }
            Map<String, Object> next = new HashMap<>(HostileServerTest.FAST);
            next.putAll(Map.of("ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.test.upstream", server.upstream(), "ftpgate.metrics.listen", "",
                    "ftpgate.abuse.max-sessions-per-address", 2));
            gw.gateway.reload(GatewayUnderTest.settings(next));
            assertThat(connect(gw, null).read().code()).as("over the new limit").isEqualTo(421);
            for (RawFtpClient running : clients.subList(0, 3)) {
                assertThat(running.command("NOOP").code()).as("running sessions go on").isEqualTo(200);
            }
        }
    }
}
