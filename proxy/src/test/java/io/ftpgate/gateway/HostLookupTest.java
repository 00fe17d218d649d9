package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.NettyWarnings;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Host names are resolved without blocking the event loop, with a deadline: a name server that
 * never answers gives the client 530 "Unknown FTP server host" once control.dns-timeout has passed
 * (and no sooner), while every other session goes on; /etc/hosts names need no name server.
 */
class HostLookupTest {
    @RegisterExtension
    final NettyWarnings nettyWarnings = new NettyWarnings();

    /** A name server on loopback that reads every query and never answers. */
    DatagramSocket blackHole;
    final AtomicInteger queries = new AtomicInteger();
    Thread reader;

    @BeforeEach
    void startBlackHole() throws Exception {
        blackHole = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        reader = new Thread(() -> {
            byte[] buf = new byte[1500];
            while (!blackHole.isClosed()) {
                try {
                    blackHole.receive(new DatagramPacket(buf, buf.length));
                    queries.incrementAndGet();
                } catch (java.io.IOException closed) {
                    return;
                }
            }
        }, "dns-black-hole");
        reader.setDaemon(true);
        reader.start();
    }

    @AfterEach
    void stopBlackHole() {
        blackHole.close();
    }

    /** The gateway's name server is the black hole; look-ups give up after 3 s. */
    Map<String, Object> dns(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        m.put("ftpgate.control.dns-servers", List.of("127.0.0.1:" + blackHole.getLocalPort()));
        m.put("ftpgate.control.dns-timeout", "3s");
        return m;
    }

    @Test
    void aNameServerThatNeverAnswersGives530AtTheDeadlineAndBlocksNoOne() throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", null, dns(Map.of(
                "ftpgate.listeners.test.mode", "forward",
                "ftpgate.destinations.allow", List.of("203.0.113.0/24"))))) {
            List<RawFtpClient> others = new ArrayList<>();
            for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors() + 2; i++) {
                RawFtpClient o = new RawFtpClient(gw.address());
                assertThat(o.read().code()).isEqualTo(220);
                others.add(o);
            }
            try (RawFtpClient c = new RawFtpClient(gw.address())) {
                assertThat(c.read().code()).isEqualTo(220);
                long t0 = System.nanoTime();
                c.send("USER anonymous@ftp.example.invalid");
                Thread.sleep(200);
                for (RawFtpClient o : others) {
                    long n0 = System.nanoTime();
                    assertThat(o.command("NOOP").code()).isEqualTo(200);
                    // A loop blocked by the look-up would hold this reply for the whole 3 s.
                    assertThat(Duration.ofNanos(System.nanoTime() - n0)).as("other sessions are not blocked")
                            .isLessThan(Duration.ofSeconds(1));
                }
                Reply r = c.read();
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(r.code()).as(r.text()).isEqualTo(530);
                assertThat(r.text()).contains("Unknown FTP server host: ftp.example.invalid");
                assertThat(took).isBetween(Duration.ofMillis(2900), Duration.ofMillis(5000));
                assertThat(queries.get()).as("the configured name server was asked").isPositive();
                assertThat(c.command("NOOP").code()).as("the session goes on").isEqualTo(200);
            }
            for (RawFtpClient o : others) {
                o.close();
            }
            assertThat(gw.refusedCount("unknown_host")).isEqualTo(1);
        }
    }

    @Test
    void forwardModeResolvesLocalhostFromTheHostsFile() throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", null, dns(Map.of(
                "ftpgate.listeners.test.mode", "forward",
                "ftpgate.destinations.allow", List.of("127.0.0.0/8"))));
             RawFtpClient c = new RawFtpClient(gw.address())) {
            assertThat(c.read().code()).isEqualTo(220);
            long t0 = System.nanoTime();
            Reply r = c.command("USER anonymous@localhost:2121");
            // Resolved (to the gateway's own loopback address, which it never connects to).
            assertThat(r.code()).as(r.text()).isEqualTo(530);
            assertThat(r.text()).contains("will not connect to itself");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
            assertThat(queries.get()).as("no name server needed").isZero();
        }
    }

    @Test
    void anExplicitUpstreamGivenByNameWorks() throws Exception {
        try (ScriptedFtpServer server = new ScriptedFtpServer();
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "localhost:" + server.port(), dns(Map.of()));
             RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            assertThat(c.command("PWD").code()).isEqualTo(257);
            assertThat(queries.get()).isZero();
        }
    }

    @Test
    void anExplicitUpstreamWhoseNameIsNotAnsweredGives421() throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "ftp.example.invalid:21", dns(Map.of()));
             RawFtpClient c = new RawFtpClient(gw.address())) {
            long t0 = System.nanoTime();
            Reply r = c.read();
            assertThat(r.code()).as(r.text()).isEqualTo(421);
            assertThat(r.text()).contains("cannot reach the FTP server").contains("ftp.example.invalid");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(5000));
            gw.awaitNoSessionsNorLeases();
        }
    }
}
