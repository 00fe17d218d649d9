package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.config.Settings;
import io.netty.handler.ssl.OpenSsl;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The client-leg probe (D-3) against a client that is not Java: {@code openssl s_client} saves the
 * control connection's session ({@code -sess_out}) and offers it on the data port
 * ({@code -sess_in}), as curl and lftp do. The gateway's per-session server context and its
 * {@link FullHandshakeProbe} call it resumed exactly when OpenSSL says "Reused", and full without
 * {@code -sess_in}: the deterministic check of {@code data-session-reuse = required}. The same
 * for {@code tls.provider = openssl}, where {@link OpenSslResumption} asks BoringSSL.
 */
class OpensslClientResumptionTest {
    @TempDir
    Path dir;

    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    /** One s_client run: stdin stays open 1 s so that the server's ticket and "ok" are read. */
    private String sClient(int port, String protocolFlag, String... extra) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c",
                "sleep 1 | " + OPENSSL + " s_client -connect 127.0.0.1:" + port + " -servername localhost " + protocolFlag
                        + " " + String.join(" ", extra)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @ParameterizedTest(name = "{0}, provider {1}")
    @CsvSource({"-tls1_2, JDK", "-tls1_3, JDK", "-tls1_2, OPENSSL", "-tls1_3, OPENSSL"})
    void theProbeAgreesWithOpenssl(String protocolFlag, Settings.TlsProvider provider) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(OPENSSL), "needs openssl");
        if (provider == Settings.TlsProvider.OPENSSL) {
            assertThat(OpenSsl.isAvailable()).as("netty-tcnative on this machine: %s", OpenSsl.unavailabilityCause()).isTrue();
        }
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost").ecp256()
                .setIsCertificateAuthority(true).buildSelfSigned();
        ServerTlsSession session = ServerTls.of(
                TlsMaterial.load(Files.writeString(dir.resolve("c.pem"), cert.getCertificatePathPEM()),
                        Files.writeString(dir.resolve("k.pem"), cert.getPrivateKeyPEM())),
                List.of("TLSv1.3", "TLSv1.2"), provider).newSession();
        Path saved = dir.resolve("control.session");
        try (TlsLoopback net = new TlsLoopback(session.context(), session.probe()::resumed)) {
            String control = sClient(net.controlPort, protocolFlag, "-sess_out", saved.toString());
            assertThat(control).contains("New, ").contains("ok");
            String data = sClient(net.dataPort, protocolFlag, "-sess_in", saved.toString());
            String fresh = sClient(net.dataPort, protocolFlag);
            assertThat(data).contains("Reused, ");
            assertThat(fresh).contains("New, ");
            System.out.printf("[tls-notes] openssl s_client %s, %s server: control %s, data with -sess_in %s, without %s%n", protocolFlag, provider,
                    net.accepted.get(0).resumed() ? "resumed" : "full", net.accepted.get(1).resumed() ? "resumed" : "full",
                    net.accepted.get(2).resumed() ? "resumed" : "full");
            assertThat(net.accepted).extracting(TlsLoopback.Accepted::resumed).containsExactly(false, true, false);
        }
    }
}
