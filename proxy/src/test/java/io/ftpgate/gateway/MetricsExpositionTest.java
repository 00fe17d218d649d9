package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an admin sees on /metrics after real sessions: the catalogue's series with bounded labels. */
class MetricsExpositionTest {
    @TempDir
    Path root;

    @Test
    void sessionsTransfersRefusalsAndLeasesAreCounted() throws Exception {
        EmbeddedFtpServer.sampleRoot(root, 100_000);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of())) {
            FTPClient c = new FTPClient();
            c.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(c.login("anonymous", "secret-password")).isTrue();
            c.setFileType(org.apache.commons.net.ftp.FTP.BINARY_FILE_TYPE);
            c.enterLocalPassiveMode();
            assertThat(c.retrieveFile("big.bin", new ByteArrayOutputStream())).isTrue();
            assertThat(c.sendCommand("PORT 10,0,0,1,200,10")).isEqualTo(504);
            c.logout();
            c.disconnect();
            FTPClient bad = new FTPClient();
            bad.connect(gw.address().getAddress(), gw.address().getPort());
            assertThat(bad.login("nobody", "wrong")).isFalse();
            bad.disconnect();

            await().atMost(Duration.ofSeconds(5)).until(() -> gw.gateway.activeSessions() == 0);
            String text = gw.gateway.meterRegistry().scrape();
            assertThat(text)
                    .contains("ftpgate_sessions_total{listener=\"test\"} 2.0")
                    .contains("ftpgate_sessions_active 0.0")
                    .contains("ftpgate_logins_total{listener=\"test\",outcome=\"success\"} 1.0")
                    .contains("ftpgate_logins_total{listener=\"test\",outcome=\"failure\"} 1.0")
                    .contains("ftpgate_transfers_total{kind=\"download\",mode=\"pasv\",outcome=\"completed\"} 1.0")
                    .contains("ftpgate_relayed_bytes_total{direction=\"download\"} 100000.0")
                    .contains("ftpgate_refused_total{reason=\"bounce\"} 1.0")
                    .contains("ftpgate_commands_total{verb=\"retr\"} 1.0")
                    .contains("ftpgate_replies_total{class=\"5xx\"}")
                    .contains("ftpgate_firewall_operations_seconds_count{operation=\"apply\",result=\"success\"} 1")
                    .contains("ftpgate_firewall_leases_active 0.0")
                    .contains("ftpgate_data_ports_in_use 0.0")
                    .contains("ftpgate_data_ports 1000.0")
                    .contains("ftpgate_build_info{")
                    .contains("# HELP ftpgate_transfers_total ")
                    .doesNotContain("127.0.0.1", "secret-password", "big.bin", "nobody");
        }
    }
}
