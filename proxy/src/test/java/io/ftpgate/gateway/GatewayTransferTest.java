package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Commons Net client → ftpgate → Apache FtpServer on loopback, every data mode, with a recording
 * firewall: what a user of a real client sees, and that every lease opened is removed.
 */
class GatewayTransferTest {

    enum Mode { PASV, EPSV, PORT, EPRT_V6, EPSV_V6 }

    @TempDir
    static Path root;
    static EmbeddedFtpServer server;

    @BeforeAll
    static void startServer() throws Exception {
        EmbeddedFtpServer.sampleRoot(root, 3 * 1024 * 1024 + 17);
        server = new EmbeddedFtpServer(root, "127.0.0.1", true);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    static FTPClient connect(GatewayUnderTest gw, Mode mode) throws Exception {
        FTPClient c = new FTPClient();
        c.setControlEncoding("UTF-8");
        c.setConnectTimeout(5000);
        c.setDefaultTimeout(10000);
        c.setDataTimeout(Duration.ofSeconds(10));
        c.connect(gw.address().getAddress(), gw.address().getPort());
        assertThat(c.getReplyCode()).isEqualTo(220);
        assertThat(c.login("anonymous", "test@example.org")).isTrue();
        assertThat(c.setFileType(FTP.BINARY_FILE_TYPE)).isTrue();
        switch (mode) {
            case PASV -> c.enterLocalPassiveMode();
            case EPSV, EPSV_V6 -> {
                c.enterLocalPassiveMode();
                c.setUseEPSVwithIPv4(true);
            }
            case PORT, EPRT_V6 -> c.enterLocalActiveMode();
        }
        return c;
    }

    static GatewayUnderTest gateway(Mode mode) throws Exception {
        String listen = mode.name().endsWith("_V6") ? "[::1]:0" : "127.0.0.1:0";
        return new GatewayUnderTest(listen, "127.0.0.1:" + server.port(), Map.of());
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void listRetrieveStore(Mode mode) throws Exception {
        try (GatewayUnderTest gw = gateway(mode)) {
            FTPClient c = connect(gw, mode);

            FTPFile[] files = c.listFiles();
            assertThat(Arrays.stream(files).map(FTPFile::getName)).contains("hello.txt", "big.bin", "upload", "d\u00e9j\u00e0 vu");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("big.bin", out)).as(c.getReplyString()).isTrue();
            assertThat(out.toByteArray()).isEqualTo(Files.readAllBytes(root.resolve("big.bin")));

            byte[] upload = new byte[1_500_000];
            new Random(mode.ordinal()).nextBytes(upload);
            String name = "upload/" + mode + ".bin";
            assertThat(c.storeFile(name, new ByteArrayInputStream(upload))).as(c.getReplyString()).isTrue();
            assertThat(Files.readAllBytes(root.resolve(name))).isEqualTo(upload);

            assertThat(c.changeWorkingDirectory("d\u00e9j\u00e0 vu")).as("UTF-8 path").isTrue();
            assertThat(c.printWorkingDirectory()).isEqualTo("/d\u00e9j\u00e0 vu");

            c.logout();
            c.disconnect();

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(gw.gateway.activeSessions()).isZero();
                assertThat(gw.firewall.active()).as("leases left behind").isEmpty();
            });
            if (mode == Mode.PASV || mode == Mode.EPSV || mode == Mode.EPSV_V6) {
                assertThat(gw.firewall.applied()).hasSize(3).allSatisfy(l -> {
                    assertThat(l.direction()).isEqualTo(DataLease.Direction.INBOUND);
                    assertThat(l.peer()).isEqualTo(gw.address().getAddress());
                });
            } else {
                assertThat(gw.firewall.applied()).as("active client, passive server: no inbound port").isEmpty();
            }
        }
    }

    @Test
    void stayActiveOnServerLegOpensLeaseForServer() throws Exception {
        try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                Map.of("ftpgate.data.active-to-passive", false))) {
            FTPClient c = connect(gw, Mode.PORT);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("hello.txt", out)).as(c.getReplyString()).isTrue();
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello through the gateway\n");
            c.logout();
            c.disconnect();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(gw.firewall.active()).isEmpty());
            assertThat(gw.firewall.applied()).hasSize(1);
        }
    }

    @Test
    void firewallFailureGives425AndNoPortStaysOpen() throws Exception {
        try (GatewayUnderTest gw = gateway(Mode.PASV)) {
            FTPClient c = connect(gw, Mode.PASV);
            gw.firewall.failApply(true);
            assertThat(c.pasv()).isEqualTo(425);
            assertThat(c.getReplyString()).contains("firewall");
            gw.firewall.failApply(false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("hello.txt", out)).as("the session goes on").isTrue();
            c.logout();
            c.disconnect();
        }
    }
}
