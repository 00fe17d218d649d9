package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Commands per second per session (delayed, never refused) and the cap on data connections per
 * session (425), over IPv4 and IPv6 loopback.
 */
class CommandLimitsTest {
    ScriptedFtpServer server;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.files.put("hello.txt", HostileClientTest.HELLO);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    GatewayUnderTest gateway(String listen, Map<String, Object> abuse) throws Exception {
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.putAll(abuse);
        return new GatewayUnderTest(listen, server.upstream(), m);
    }

    double throttled(GatewayUnderTest gw) {
        var c = gw.gateway.meterRegistry().find("ftpgate.throttled").tag("reason", "command_rate").counter();
        return c == null ? 0 : c.count();
    }

    long secondsFor25PipelinedNoops(GatewayUnderTest gw) throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            long t0 = System.nanoTime();
            c.sendRaw("NOOP\r\n".repeat(25).getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 25; i++) {
                assertThat(c.read().code()).as("reply %d", i).isEqualTo(200);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(c.command("PWD").code()).as("the session goes on").isEqualTo(257);
            return ms;
        }
    }

    @ParameterizedTest(name = "listening on {0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void aFloodOfCommandsIsSlowedToTheRateNotRefused(String listen) throws Exception {
        try (GatewayUnderTest gw = gateway(listen, Map.of("ftpgate.abuse.commands-per-second", 10,
                "ftpgate.abuse.command-burst", 5))) {
            // USER and PASS took 2 of the 5; 25 more at 10/s take at least (25 - 3) / 10 s.
            long ms = secondsFor25PipelinedNoops(gw);
            assertThat(ms).isGreaterThanOrEqualTo(2000);
            assertThat(throttled(gw)).isPositive();
            assertThat(server.verbs().stream().filter(v -> v.equals("NOOP"))).hasSize(25);
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void withoutARateTheSameFloodIsFast() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", Map.of())) {
            assertThat(secondsFor25PipelinedNoops(gw)).isLessThan(1500);
            assertThat(throttled(gw)).isZero();
        }
    }

    @ParameterizedTest(name = "listening on {0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void dataConnectionsBeyondTheCapGet425(String listen) throws Exception {
        try (GatewayUnderTest gw = gateway(listen, Map.of("ftpgate.abuse.max-data-connections", 2));
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("EPSV ALL").code()).as("not a data connection").isEqualTo(200);
            assertThat(c.command("EPSV").code()).isEqualTo(229);
            Reply second = c.command("EPSV");
            assertThat(second.code()).isEqualTo(229);
            Reply third = c.command("EPSV");
            assertThat(third.code()).isEqualTo(425);
            assertThat(third.text()).contains("this session has negotiated its 2 data connections");
            assertThat(gw.refusedCount("data_connection_limit")).isEqualTo(1.0);
            assertThat(server.verbs().stream().filter(v -> v.equals("EPSV"))).as("the third never reached the server")
                    .hasSize(2);
            // The second negotiation is still usable.
            try (java.net.Socket data = new java.net.Socket(gw.address().getAddress(), RawFtpClient.passivePort(second))) {
                assertThat(c.command("RETR hello.txt").code()).isEqualTo(150);
                assertThat(data.getInputStream().readAllBytes()).isEqualTo(HostileClientTest.HELLO);
            }
            assertThat(c.read().code()).isEqualTo(226);
            assertThat(c.command("QUIT").code()).isEqualTo(221);
        }
    }
}
