package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A passive negotiation's steps overlap instead of running one after the other: the gateway's port
 * is bound and leased while the server answers EPSV (once the session is logged in), and the
 * server's data connection is opened as soon as the client has its 227, not when the client
 * connects. Seen from a scripted server that waits for each of them.
 */
class PassiveOverlapTest {

    ScriptedFtpServer server;
    GatewayUnderTest gw;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), HostileServerTest.FAST);
    }

    @AfterEach
    void stop() {
        gw.close();
        server.close();
    }

    @Test
    void theLeaseIsInPlaceBeforeTheServerAnswersEpsv() throws Exception {
        AtomicBoolean leasedFirst = new AtomicBoolean();
        server.on("EPSV", (p, a) -> {
            // Holds the answer until the gateway's lease is applied (2 s at most).
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (gw.firewall.applied().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            leasedFirst.set(!gw.firewall.applied().isEmpty());
            p.reply("229 Entering Extended Passive Mode (|||" + p.openPassive() + "|)");
        });
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            Reply r = c.command("PASV");
            assertThat(r.code()).as(r.text()).isEqualTo(227);
            assertThat(leasedFirst).as("lease applied while the server's EPSV answer was outstanding").isTrue();
            DataLease lease = gw.firewall.applied().get(0);
            assertThat(lease.port()).as("the lease is for the announced port").isEqualTo(RawFtpClient.passivePort(r));
            assertThat(lease.peer().isLoopbackAddress()).as("and for the client").isTrue();
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void beforeALoginNothingIsLeasedUntilTheServerAgrees() throws Exception {
        server.on("EPSV", (p, a) -> p.reply("530 Please login with USER and PASS"));
        try (RawFtpClient c = new RawFtpClient(gw.address())) {
            assertThat(c.read().code()).isEqualTo(220);
            assertThat(c.command("PASV").code()).isEqualTo(530);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        assertThat(gw.firewall.applied()).as("no lease before a login").isEmpty();
        gw.awaitNoSessionsNorLeases();
    }

    @Test
    void theServerDataConnectionIsOpenedBeforeTheClientConnects() throws Exception {
        byte[] file = "listed before the client came\n".getBytes(StandardCharsets.US_ASCII);
        AtomicReference<Socket> early = new AtomicReference<>();
        server.on("EPSV", (p, a) -> {
            p.reply("229 Entering Extended Passive Mode (|||" + p.openPassive() + "|)");
            early.set(p.acceptData()); // the gateway's connection, 5 s at most
        });
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection");
            try (Socket s = early.get()) {
                s.getOutputStream().write(file);
            }
            p.reply("226 transfer complete");
        });
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("PASV"));
            Awaitility.await().atMost(Duration.ofSeconds(2)).untilAsserted(() ->
                    assertThat(early.get()).as("the server's data connection, while the client has not connected").isNotNull());
            try (Socket data = new Socket(gw.address().getAddress(), port)) {
                data.setSoTimeout(5000);
                assertThat(c.command("RETR f").code()).isEqualTo(150);
                InputStream in = data.getInputStream();
                assertThat(in.readAllBytes()).isEqualTo(file);
            }
            assertThat(c.read().code()).isEqualTo(226);
            assertThat(c.command("NOOP").code()).isEqualTo(200);
        }
        gw.awaitNoSessionsNorLeases();
    }
}
