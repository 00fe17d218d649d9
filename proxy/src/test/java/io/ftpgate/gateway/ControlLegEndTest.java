package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.ScriptedFtpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Either control leg ending (client's or server's), by FIN or by RST, during a slow download ends the
 * session and both of its data connections at once (well within a second), and leaves no lease.
 *
 * <p>Note for harnesses that reset the control connection from Python's ftplib: {@code
 * ftp.sock.setsockopt(SO_LINGER, (1, 0)); ftp.sock.close()} sends nothing while {@code ftp.file}
 * (ftplib's makefile of the same socket) is open: the descriptor stays open until the process
 * exits, which looks exactly like "a reset noticed only when the data connection ends". Close
 * {@code ftp.file} too, and the gateway sees the reset at once.
 */
class ControlLegEndTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    final io.ftpgate.testing.NettyWarnings nettyWarnings = new io.ftpgate.testing.NettyWarnings();
    ScriptedFtpServer server;
    GatewayUnderTest gw;
    /** When the server's data writes stopped going through (nanoTime), or never. */
    final CompletableFuture<Long> serverDataEnded = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection (slowly)");
            try (Socket d = p.acceptData()) {
                OutputStream out = d.getOutputStream();
                byte[] chunk = new byte[16 * 1024];
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < until) {
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(20);
                }
            } catch (IOException e) {
                serverDataEnded.complete(System.nanoTime());
                return;
            }
            p.reply("226 done");
        });
    }

    void gateway(String relay) throws Exception {
        java.util.Map<String, Object> m = new java.util.HashMap<>(HostileServerTest.FAST);
        m.put("ftpgate.data.relay", relay);
        gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), m);
    }

    @AfterEach
    void stop() {
        gw.close();
        server.close();
    }

    @ParameterizedTest(name = "client control {0}, relay {1}")
    @org.junit.jupiter.params.provider.CsvSource({"FIN,copy", "RST,copy", "FIN,splice", "RST,splice"})
    void clientControlLegEndingEndsTheDownload(String how, String relay) throws Exception {
        gateway(relay);
        RawFtpClient c = RawFtpClient.loggedIn(gw.address());
        c.command("TYPE I");
        try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
            assertThat(c.command("RETR slow.bin").code()).isEqualTo(150);
            InputStream in = d.getInputStream();
            assertThat(in.readNBytes(32 * 1024)).hasSize(32 * 1024);
            if (how.equals("RST")) {
                c.resetClose();
            } else {
                c.close();
            }
            long t0 = System.nanoTime();
            assertThat(endsWithReset(in)).as("a cut-short download ends with a reset, not as a complete file").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("client data connection ended")
                    .isLessThan(Duration.ofSeconds(1));
            long ended = serverDataEnded.get(2, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(ended - t0)).as("server data connection ended")
                    .isLessThan(Duration.ofMillis(1500));
        }
        await().atMost(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertThat(gw.gateway.activeSessions()).as("sessions").isZero();
            assertThat(gw.firewall.active()).as("leases").isEmpty();
        });
    }

    /** A real server (Apache FtpServer) and a client that stops reading: the gateway notices the reset at once. */
    @ParameterizedTest(name = "client control {0}, client not reading")
    @ValueSource(strings = {"FIN", "RST"})
    void clientControlLegEndingWhileTheClientIsNotReading(String how, @org.junit.jupiter.api.io.TempDir java.nio.file.Path root)
            throws Exception {
        io.ftpgate.testing.EmbeddedFtpServer.sampleRoot(root, 32 * 1024 * 1024);
        try (var ftp = new io.ftpgate.testing.EmbeddedFtpServer(root, "127.0.0.1", true)) {
            gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + ftp.port(), HostileServerTest.FAST);
            RawFtpClient c = RawFtpClient.loggedIn(gw.address());
            c.command("TYPE I");
            try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(d.getInputStream().readNBytes(32 * 1024)).hasSize(32 * 1024);
                Thread.sleep(300); // buffers fill up; the relay waits for the client
                if (how.equals("RST")) {
                    c.resetClose();
                } else {
                    c.close();
                }
                await().atMost(Duration.ofSeconds(1)).untilAsserted(() -> {
                    assertThat(gw.gateway.activeSessions()).as("sessions").isZero();
                    assertThat(gw.firewall.active()).as("leases").isEmpty();
                });
                assertThat(endsWithReset(d.getInputStream()))
                        .as("a cut-short download ends with a reset, not as a complete file").isTrue();
            }
        }
    }

    @ParameterizedTest(name = "server control {0}")
    @ValueSource(strings = {"FIN", "RST"})
    void serverControlLegEndingEndsTheDownload(String how) throws Exception {
        server.on("RETR", (p, a) -> {
            p.reply("150 opening data connection (slowly)");
            try (Socket d = p.acceptData()) {
                Thread vanish = new Thread(() -> {
                    try {
                        Thread.sleep(300);
                        if (how.equals("RST")) {
                            p.reset();
                        } else {
                            p.close();
                        }
                    } catch (Exception e) {
                        // the test sees what happens
                    }
                });
                vanish.start();
                OutputStream out = d.getOutputStream();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < until) {
                    out.write(new byte[16 * 1024]);
                    out.flush();
                    Thread.sleep(20);
                }
            } catch (IOException e) {
                serverDataEnded.complete(System.nanoTime());
            }
        });
        gateway("copy");
        RawFtpClient c = RawFtpClient.loggedIn(gw.address());
        c.command("TYPE I");
        try (Socket d = VanishingPeerTest.data(gw, c.command("PASV"))) {
            assertThat(c.command("RETR slow.bin").code()).isEqualTo(150);
            InputStream in = d.getInputStream();
            assertThat(in.readNBytes(32 * 1024)).hasSize(32 * 1024);
            var r = c.read();
            long t0 = System.nanoTime();
            assertThat(r.code()).as(r.text()).isEqualTo(421);
            assertThat(endsWithReset(in)).as("a cut-short download ends with a reset, not as a complete file").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("client data connection ended")
                    .isLessThan(Duration.ofSeconds(1));
            long ended = serverDataEnded.get(2, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(ended - t0)).as("server data connection ended").isLessThan(Duration.ofMillis(1500));
            assertThat(c.isClosedByPeer()).as("client control connection closed").isTrue();
        }
        await().atMost(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertThat(gw.gateway.activeSessions()).as("sessions").isZero();
            assertThat(gw.firewall.active()).as("leases").isEmpty();
        });
    }

    /** Reads to the end: true if the connection was reset, false at a clean end of stream. */
    static boolean endsWithReset(InputStream in) throws IOException {
        byte[] buf = new byte[65536];
        try {
            while (in.read(buf) != -1) {
                // what the kernel still had
            }
            return false;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }
}
