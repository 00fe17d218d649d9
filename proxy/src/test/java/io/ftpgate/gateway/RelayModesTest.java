package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A download and an upload through the gateway with each {@code data.relay}: the files arrive
 * whole, and the relayed bytes on /metrics are exactly the files' sizes (spliced bytes are
 * counted by the kernel, copied ones by the relay).
 */
class RelayModesTest {
    private static final int SIZE = 24 * 1024 * 1024 + 5;

    @TempDir
    Path root;

    @ParameterizedTest(name = "data.relay = {0}")
    @ValueSource(strings = {"splice", "copy"})
    void filesArriveWholeAndEveryByteIsCounted(String relay) throws Exception {
        EmbeddedFtpServer.sampleRoot(root, SIZE);
        byte[] upload = new byte[SIZE - 1000];
        new java.util.Random(11).nextBytes(upload);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                     Map.of("ftpgate.data.relay", relay))) {
            FTPClient c = new FTPClient();
            c.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(c.login("anonymous", "x")).isTrue();
            c.setFileType(FTP.BINARY_FILE_TYPE);
            c.enterLocalPassiveMode();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("big.bin", got)).isTrue();
            assertThat(got.toByteArray()).isEqualTo(Files.readAllBytes(root.resolve("big.bin")));
            c.enterLocalActiveMode();
            assertThat(c.storeFile("upload/up.bin", new ByteArrayInputStream(upload))).isTrue();
            assertThat(Files.readAllBytes(root.resolve("upload/up.bin"))).isEqualTo(upload);
            c.logout();
            c.disconnect();

            await().atMost(Duration.ofSeconds(5)).until(() -> gw.gateway.activeSessions() == 0);
            assertThat(gw.gateway.meterRegistry().scrape())
                    .contains("ftpgate_relayed_bytes_total{direction=\"download\"} " + (double) SIZE)
                    .contains("ftpgate_relayed_bytes_total{direction=\"upload\"} " + (double) upload.length)
                    .contains("ftpgate_transfers_total{kind=\"download\",mode=\"pasv\",outcome=\"completed\"} 1.0")
                    .contains("ftpgate_transfers_total{kind=\"upload\",mode=\"port\",outcome=\"completed\"} 1.0");
        }
    }
}
