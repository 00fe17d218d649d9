package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.config.Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate reload (SIGHUP) as clients see it: after a reload new FTP sessions get the new
 * certificate while a running one keeps its context, and its data connections still resume; a bad
 * file is refused naming it, and the old certificate stays.
 */
class ServerTlsHolderTest {
    @TempDir
    Path dir;

    private Settings.ListenerTls write(X509Bundle b) throws Exception {
        Path chain = Files.writeString(dir.resolve("chain.pem"), b.getCertificatePathPEM());
        Path key = Files.writeString(dir.resolve("key.pem"), b.getPrivateKeyPEM());
        return new Settings.ListenerTls(Settings.TlsMode.EXPLICIT, Optional.of(chain), Optional.of(key),
                List.of("TLSv1.3", "TLSv1.2"), false, true, Settings.DataSessionReuse.OPTIONAL);
    }

    private static X509Bundle cert(String cn) throws Exception {
        return new CertificateBuilder().subject("CN=" + cn).addSanDnsName("localhost").ecp256()
                .setIsCertificateAuthority(true).buildSelfSigned();
    }

    /**
     * lftp sends an IPv6 literal as server name; the JDK refuses that ClientHello unless the
     * server_name extension is off on the server side (FtpsIT: lftp over IPv6).
     */
    @Test
    void theClientLegIgnoresServerNames() {
        try {
            Class.forName(ServerTls.class.getName(), true, ServerTls.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        assertThat(System.getProperty("jdk.tls.server.disableExtensions")).contains("server_name");
    }

    @Test
    void newSessionsGetTheNewCertificateRunningOnesKeepTheirs() throws Exception {
        X509Bundle first = cert("first");
        X509Bundle second = cert("second");
        Settings.ListenerTls settings = write(first);
        ServerTlsHolder holder = new ServerTlsHolder(ServerTls.load(settings));
        ServerTlsSession running = holder.current().newSession();
        SslContext client = SslContextBuilder.forClient().trustManager(first.getCertificate(), second.getCertificate()).build();

        write(second);
        ServerTls reloaded = holder.reload(settings);
        assertThat(holder.current()).isSameAs(reloaded);
        assertThat(reloaded.material().leaf()).isEqualTo(second.getCertificate());

        try (TlsLoopback net = new TlsLoopback(running.context(), running.probe()::resumed)) {
            SSLEngine control = net.connect(client, net.controlPort, "localhost", net.controlPort, true);
            assertThat(((X509Certificate) control.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName())
                    .isEqualTo("CN=first");
            net.connect(client, net.dataPort, "localhost", net.controlPort, true);
            assertThat(net.accepted).extracting(TlsLoopback.Accepted::resumed).containsExactly(false, true);
        }
        ServerTlsSession fresh = holder.current().newSession();
        try (TlsLoopback net = new TlsLoopback(fresh.context(), fresh.probe()::resumed)) {
            SSLEngine control = net.connect(client, net.controlPort, "localhost", net.controlPort, true);
            assertThat(((X509Certificate) control.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName())
                    .isEqualTo("CN=second");
        }
    }

    @Test
    void aBadFileIsRefusedAndTheOldCertificateStays() throws Exception {
        X509Bundle first = cert("first");
        Settings.ListenerTls settings = write(first);
        ServerTlsHolder holder = new ServerTlsHolder(ServerTls.load(settings));
        ServerTls before = holder.current();

        Files.writeString(settings.certificate().get(), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> holder.reload(settings)).isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(settings.certificate().get() + ": not a PEM certificate chain");
        assertThat(holder.current()).isSameAs(before);

        Files.writeString(settings.certificate().get(), first.getCertificatePathPEM());
        Files.writeString(settings.privateKey().get(), cert("other").getPrivateKeyPEM());
        assertThatThrownBy(() -> holder.reload(settings))
                .hasMessageStartingWith(settings.privateKey().get() + ": the private key does not belong to the certificate");
        assertThat(holder.current()).isSameAs(before);
    }

    @Test
    void aPerSessionContextIsCheapEnough() throws Exception {
        ServerTls tls = ServerTls.load(write(cert("x")));
        for (int i = 0; i < 50; i++) {
            tls.newSession();
        }
        long start = System.nanoTime();
        int n = 200;
        for (int i = 0; i < n; i++) {
            tls.newSession();
        }
        double micros = (System.nanoTime() - start) / 1000.0 / n;
        System.out.printf("[tls-notes] a per-FTP-session server SslContext takes %.0f us to build%n", micros);
        assertThat(micros).as("microseconds per context").isLessThan(20_000);
    }
}
