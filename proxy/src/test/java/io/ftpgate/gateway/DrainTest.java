package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.HttpProbe;
import io.ftpgate.testing.HttpProbe.Answer;
import io.ftpgate.testing.RawFtpClient;
import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drain that does not exit, as a client and a load balancer see it: /ready 503 at once, new
 * sessions served for the grace and refused with 421 after it, running sessions working until the
 * drain timeout and then 421, and undrain back to normal.
 */
class DrainTest {
    @TempDir
    Path root;

    private static GatewayUnderTest gateway(EmbeddedFtpServer server, String metricsListen) throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                "ftpgate.metrics.listen", metricsListen,
                "ftpgate.drain.lb-grace", "4s",
                "ftpgate.drain.timeout", "2s"));
    }

    private static FTPClient login(InetSocketAddress a) throws Exception {
        FTPClient c = new FTPClient();
        c.connect(a.getAddress(), a.getPort());
        assertThat(c.login("anonymous", "x")).as(c.getReplyString()).isTrue();
        c.enterLocalPassiveMode();
        return c;
    }

    private static String read(FTPClient c, String file) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(c.retrieveFile(file, out)).as(c.getReplyString()).isTrue();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static double draining(GatewayUnderTest gw) {
        return gw.gateway.meterRegistry().get("ftpgate.draining").gauge().value();
    }

    @Test
    void drainRefusesNewSessionsAfterTheGraceEndsTheRestAtTheTimeoutAndUndrainRestores() throws Exception {
        Files.writeString(root.resolve("a.txt"), "contents");
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server, "127.0.0.1:0")) {
            InetSocketAddress http = gw.gateway.metricsAddress().orElseThrow();
            FTPClient running = login(gw.address());
            assertThat(draining(gw)).isZero();

            long t0 = System.nanoTime();
            assertThat(HttpProbe.post(http, "/drain")).isEqualTo(new Answer(200, "draining: 1 session(s) running\n"));
            assertThat(HttpProbe.get(http, "/ready")).isEqualTo(new Answer(503, "not ready: draining\n"));
            assertThat(HttpProbe.get(http, "/health").status()).isEqualTo(200);
            assertThat(HttpProbe.post(http, "/drain").body()).startsWith("already draining");
            assertThat(draining(gw)).isEqualTo(1);

            FTPClient duringGrace = login(gw.address());
            assertThat(System.nanoTime() - t0).as("test too slow for the grace").isLessThan(Duration.ofSeconds(4).toNanos());
            assertThat(read(duringGrace, "a.txt")).as("a session the load balancer sent during the grace").isEqualTo("contents");
            duringGrace.logout();
            duringGrace.disconnect();

            await().atMost(Duration.ofSeconds(6)).untilAsserted(() -> {
                try (RawFtpClient late = new RawFtpClient(gw.address())) {
                    RawFtpClient.Reply r = late.read();
                    assertThat(r.code()).isEqualTo(421);
                    assertThat(r.text()).contains("the gateway is draining");
                }
            });
            assertThat(read(running, "a.txt")).as("the running session still transfers after the grace").isEqualTo("contents");

            await().atMost(Duration.ofSeconds(6)).until(() -> gw.gateway.activeSessions() == 0);
            assertThat(System.nanoTime() - t0).as("ended at grace + timeout, not before")
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(6).toNanos());
            assertThatThrownBy(running::sendNoOp).as("the session left at the timeout got 421")
                    .isInstanceOf(FTPConnectionClosedException.class).hasMessageContaining("421");
            assertThat(running.getReplyString()).contains("the gateway is draining (drain.timeout passed)");
            running.disconnect();

            assertThat(HttpProbe.post(http, "/undrain")).isEqualTo(new Answer(200, "undrained: 0 session(s) running\n"));
            assertThat(HttpProbe.get(http, "/ready").status()).isEqualTo(200);
            assertThat(draining(gw)).isZero();
            FTPClient after = login(gw.address());
            assertThat(read(after, "a.txt")).isEqualTo("contents");
            after.logout();
            after.disconnect();
            assertThat(HttpProbe.post(http, "/undrain").body()).isEqualTo("not draining\n");
        }
    }

    @Test
    void drainRequestsAreOnlyTakenFromLoopbackAndOnlyAsPost() throws Exception {
        Optional<InetAddress> external = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .filter(i -> { try { return i.isUp() && !i.isLoopback(); } catch (Exception e) { return false; } })
                .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
                .filter(a -> a instanceof Inet4Address && !a.isLinkLocalAddress()).findFirst();
        Assumptions.assumeTrue(external.isPresent(), "no non-loopback IPv4 address to ask from");
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server, "0.0.0.0:0")) {
            int port = gw.gateway.metricsAddress().orElseThrow().getPort();
            InetSocketAddress remote = new InetSocketAddress(external.get(), port);
            Answer refused = HttpProbe.post(remote, "/drain");
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.body()).contains("loopback");
            assertThat(HttpProbe.get(remote, "/ready").status()).as("/ready is for everyone").isEqualTo(200);
            assertThat(HttpProbe.get(new InetSocketAddress("127.0.0.1", port), "/drain").status()).isEqualTo(405);
            assertThat(HttpProbe.get(remote, "/ready").status()).as("nothing drained").isEqualTo(200);
        }
    }
}
