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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A download and an upload through the gateway with each {@code data.relay}: the files arrive
 * whole, and the relayed bytes on /metrics are exactly the files' sizes (spliced bytes are
 * counted by the kernel, copied ones by the relay). {@code ftpgate_data_relays_total} says which
 * relay each transfer used: splice by default, copy where asked, and copy for a session with a
 * bandwidth limit even though splice is asked for (shaping needs the bytes to pass through).
 */
class RelayModesTest {
    private static final int SIZE = 24 * 1024 * 1024 + 5;

    @TempDir
    Path root;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "the default,                             ,          splice, none",
        "data.relay = splice,                     splice,    splice, none",
        "data.relay = copy,                       copy,      copy,   configured",
        "splice with a per-session bandwidth limit, splice-limited, copy, bandwidth",
    })
    void filesArriveWholeAndEveryByteIsCounted(String name, String relay, String used, String reason) throws Exception {
        Map<String, Object> settings = new java.util.HashMap<>();
        if ("splice-limited".equals(relay)) {
            settings.put("ftpgate.data.relay", "splice");
            // High enough not to slow the test: only its presence matters.
            settings.put("ftpgate.abuse.bandwidth.per-session", "10000000000");
        } else if (relay != null) {
            settings.put("ftpgate.data.relay", relay);
        }
        EmbeddedFtpServer.sampleRoot(root, SIZE);
        byte[] upload = new byte[SIZE - 1000];
        new java.util.Random(11).nextBytes(upload);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                     settings)) {
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
                    .contains("ftpgate_transfers_total{kind=\"upload\",mode=\"port\",outcome=\"completed\"} 1.0")
                    .contains("ftpgate_data_relays_total{reason=\"" + reason + "\",relay=\"" + used + "\"} 2.0");
        }
    }
}
