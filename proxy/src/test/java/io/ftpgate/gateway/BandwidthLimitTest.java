package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.ScriptedFtpServer;
import io.ftpgate.tls.DemoCertificate;
import io.ftpgate.tls.TlsMaterial;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPSClient;
import org.apache.commons.net.util.TrustManagerUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bandwidth limits (abuse.bandwidth) on relayed data connections, IPv4 and IPv6: downloads and
 * uploads take as long as the limit says and arrive whole, also with data.relay = splice (a shaped
 * connection is copied) and with TLS data connections, and a reload changes the gateway-wide limit
 * in place. {@code io.ftpgate.session.DataBandwidthTest} forces the case that used to bypass the
 * limit here now and then (the sender's FIN arriving while the shaper holds the leg).
 */
class BandwidthLimitTest {
    static final int SIZE = 400 * 1024;
    static final int LIMIT = 100 * 1024;
    /** At LIMIT, SIZE takes 4 s; shaping may let the first second's worth through at once. */
    static final long SHAPED_MS = 2500;
    final byte[] file = new byte[SIZE];
    ScriptedFtpServer server;

    @BeforeEach
    void start() throws Exception {
        new Random(7).nextBytes(file);
        server = new ScriptedFtpServer();
        server.files.put("big.bin", file);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    GatewayUnderTest gateway(String listen, Map<String, Object> extra) throws Exception {
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.put("ftpgate.control.idle-timeout", "30s");
        m.putAll(extra);
        return new GatewayUnderTest(listen, server.upstream(), m);
    }

    /** RETR big.bin over EPSV; returns the milliseconds until the 226. */
    static long download(GatewayUnderTest gw, byte[] expected) throws Exception {
        try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
            int port = RawFtpClient.passivePort(c.command("EPSV"));
            long t0 = System.nanoTime();
            try (Socket data = new Socket(gw.address().getAddress(), port)) {
                data.setSoTimeout(20_000);
                assertThat(c.command("RETR big.bin").code()).isEqualTo(150);
                assertThat(data.getInputStream().readAllBytes()).isEqualTo(expected);
            }
            c.setTimeoutMillis(20_000);
            assertThat(c.read().code()).isEqualTo(226);
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }

    @ParameterizedTest(name = "listening on {0}")
    @ValueSource(strings = {"127.0.0.1:0", "[::1]:0"})
    void aSessionLimitSlowsDownloadsAndUploadsEvenWithSplice(String listen) throws Exception {
        try (GatewayUnderTest gw = gateway(listen, Map.of("ftpgate.abuse.bandwidth.per-session", LIMIT,
                "ftpgate.data.relay", "splice"))) {
            assertThat(download(gw, file)).isGreaterThanOrEqualTo(SHAPED_MS);
            try (RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                int port = RawFtpClient.passivePort(c.command("EPSV"));
                long t0 = System.nanoTime();
                try (Socket data = new Socket(gw.address().getAddress(), port)) {
                    assertThat(c.command("STOR up.bin").code()).isEqualTo(150);
                    OutputStream out = data.getOutputStream();
                    out.write(file);
                }
                c.setTimeoutMillis(20_000);
                assertThat(c.read().code()).isEqualTo(226);
                assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(SHAPED_MS);
            }
            assertThat(server.files.get("up.bin")).isEqualTo(file);
            gw.awaitNoSessionsNorLeases();
        }
    }

    /**
     * PROT P on the client's leg: its bytes pass the gateway's TLS, whose SslHandler asks for
     * reads of its own below the shaper; what reaches the other peer is held to the limit anyway.
     */
    @Test
    void aSessionLimitHoldsOnTlsDataConnections(@TempDir Path dir) throws Exception {
        TlsMaterial cert = DemoCertificate.create(dir);
        Map<String, Object> m = new HashMap<>(FtpsGatewayTest.clientLegFor(cert, "explicit"));
        m.put("ftpgate.abuse.bandwidth.per-session", LIMIT);
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", m)) {
            FTPSClient c = new FTPSClient("TLS", false);
            c.setTrustManager(TrustManagerUtils.getAcceptAllTrustManager());
            c.setConnectTimeout(5000);
            c.setDefaultTimeout(20_000);
            c.setDataTimeout(Duration.ofSeconds(20));
            c.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(c.login("anonymous", "test@example.org")).as(c.getReplyString()).isTrue();
            c.execPBSZ(0);
            c.execPROT("P");
            assertThat(c.getReplyCode()).as(c.getReplyString()).isEqualTo(200);
            assertThat(c.setFileType(FTP.BINARY_FILE_TYPE)).isTrue();
            c.enterLocalPassiveMode();
            c.setUseEPSVwithIPv4(true);

            long t0 = System.nanoTime();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("big.bin", got)).as(c.getReplyString()).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).as("download ms").isGreaterThanOrEqualTo(SHAPED_MS);
            assertThat(got.toByteArray()).isEqualTo(file);

            t0 = System.nanoTime();
            assertThat(c.storeFile("up.bin", new ByteArrayInputStream(file))).as(c.getReplyString()).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).as("upload ms").isGreaterThanOrEqualTo(SHAPED_MS);
            assertThat(server.files.get("up.bin")).isEqualTo(file);
            c.logout();
            c.disconnect();
            gw.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void withoutALimitTheSameDownloadIsFast() throws Exception {
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", Map.of())) {
            assertThat(download(gw, file)).isLessThan(SHAPED_MS);
        }
    }

    @Test
    void theGatewayLimitHoldsAndAReloadChangesIt() throws Exception {
        Map<String, Object> shaped = new HashMap<>(Map.of("ftpgate.abuse.bandwidth.total", LIMIT));
        try (GatewayUnderTest gw = gateway("127.0.0.1:0", shaped)) {
            assertThat(download(gw, file)).isGreaterThanOrEqualTo(SHAPED_MS);

            Map<String, Object> next = new HashMap<>(HostileServerTest.FAST);
            next.putAll(Map.of("ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.test.upstream", server.upstream(), "ftpgate.metrics.listen", "",
                    "ftpgate.control.idle-timeout", "30s", "ftpgate.abuse.bandwidth.total", 16 * 1024 * 1024));
            gw.gateway.reload(GatewayUnderTest.settings(next));
            assertThat(download(gw, file)).as("16 MiB/s after the reload").isLessThan(SHAPED_MS);
        }
    }
}
