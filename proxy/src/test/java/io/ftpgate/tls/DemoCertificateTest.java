package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's certificate: made at start, usable at once, for the names a local client uses. */
class DemoCertificateTest {
    @TempDir
    Path dir;

    @Test
    void aFreshCertificateForLocalhostThatAClientTrustingItAccepts() throws Exception {
        TlsMaterial m = DemoCertificate.create(dir);
        assertThat(m.certificateFile()).isEqualTo(dir.resolve("demo-chain.pem"));
        assertThat(Files.getPosixFilePermissions(m.keyFile())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(m.leaf().getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                .containsExactlyInAnyOrder("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1");
        assertThat(m.notAfter()).isBetween(Instant.now().plus(Duration.ofDays(29)), Instant.now().plus(Duration.ofDays(31)));
        m.checkValidAt(Instant.now());
        ServerTlsSession s = ServerTls.of(m, List.of("TLSv1.3", "TLSv1.2")).newSession();
        try (TlsLoopback net = new TlsLoopback(s.context(), s.probe()::resumed)) {
            SSLEngine e = net.connect(SslContextBuilder.forClient().trustManager(m.leaf()).build(),
                    net.controlPort, "localhost", net.controlPort, true);
            assertThat(e.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }
}
