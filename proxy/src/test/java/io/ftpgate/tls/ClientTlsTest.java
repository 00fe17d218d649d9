package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.config.Settings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server leg's verification modes as an admin configures them, against a TLS server on
 * loopback whose certificate (for "localhost") is issued by a private CA; and the per-session
 * client context resuming the control session on other ports.
 */
class ClientTlsTest {
    @TempDir
    static Path dir;

    static X509Bundle ca;
    static X509Bundle leaf;
    static Path caFile;
    static ServerTls server;

    @BeforeAll
    static void pki() throws Exception {
        ca = new CertificateBuilder().subject("CN=Test CA").setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        leaf = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost").ecp256().buildIssuedBy(ca);
        caFile = Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
        Path chain = Files.writeString(dir.resolve("chain.pem"), leaf.getCertificatePEM() + ca.getCertificatePEM());
        Path key = Files.writeString(dir.resolve("key.pem"), leaf.getPrivateKeyPEM());
        server = ServerTls.of(TlsMaterial.load(chain, key), List.of("TLSv1.3", "TLSv1.2"));
    }

    static Settings.UpstreamTls policy(Settings.Verify verify, String sni, String fingerprint) {
        return new Settings.UpstreamTls(Settings.UpstreamTlsMode.EXPLICIT, verify,
                verify == Settings.Verify.CA_FILE ? Optional.of(caFile) : Optional.empty(),
                Optional.ofNullable(fingerprint), Optional.ofNullable(sni), Optional.empty(), Optional.empty(),
                Settings.Protection.PRIVATE, List.of("TLSv1.3", "TLSv1.2"));
    }

    /** Control handshake through {@code policy}; returns the client's engine or throws. */
    private static SSLEngine handshake(Settings.UpstreamTls policy) throws Exception {
        ServerTlsSession s = server.newSession();
        try (TlsLoopback net = new TlsLoopback(s.context(), s.probe()::resumed)) {
            ClientTlsSession c = ClientTls.create(policy).newSession("localhost", net.controlPort);
            return net.connect(c.context(), net.controlPort, c.peerHost(), c.cachePort(), true);
        }
    }

    @Test
    void caFileVerifiesTheChainAndTheName() throws Exception {
        assertThat(handshake(policy(Settings.Verify.CA_FILE, null, null)).getSession().getPeerPrincipal().getName())
                .isEqualTo("CN=localhost");
        assertThatThrownBy(() -> handshake(policy(Settings.Verify.CA_FILE, "ftp.example.net", null)))
                .hasStackTraceContaining("No subject alternative DNS name matching ftp.example.net");
    }

    @Test
    void systemTrustDoesNotKnowAPrivateCa() {
        assertThatThrownBy(() -> handshake(policy(Settings.Verify.SYSTEM, null, null)))
                .hasStackTraceContaining("unable to find valid certification path");
    }

    @Test
    void aFingerprintPinsTheCertificateItself() throws Exception {
        String pin = TlsMaterial.fingerprint(leaf.getCertificate()).replace(":", "").toLowerCase(java.util.Locale.ROOT);
        // The pin names the certificate; no name check (the SNI here matches nothing in it).
        assertThat(handshake(policy(Settings.Verify.FINGERPRINT, "ftp.example.net", pin))).isNotNull();
        String caPin = TlsMaterial.fingerprint(ca.getCertificate()).replace(":", "");
        assertThatThrownBy(() -> handshake(policy(Settings.Verify.FINGERPRINT, null, caPin)))
                .hasStackTraceContaining("fingerprint");
    }

    @Test
    void insecureAcceptsAnyCertificateAndName() throws Exception {
        assertThat(handshake(policy(Settings.Verify.INSECURE, "ftp.example.net", null)).getSession().getProtocol())
                .isEqualTo("TLSv1.3");
    }

    @Test
    void theJdkClientUsesSessionIdsForTls12() {
        ClientTls.class.getName();
        assertThat(System.getProperty(ClientTls.TLS12_TICKETS)).isEqualTo("false");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void dataConnectionsOfOneSessionResumeItsControlSession(String protocol) throws Exception {
        ServerTls serverTls = ServerTls.of(server.material(), List.of(protocol));
        ServerTlsSession s = serverTls.newSession();
        try (TlsLoopback net = new TlsLoopback(s.context(), s.probe()::resumed)) {
            ClientTls tls = ClientTls.create(policy(Settings.Verify.CA_FILE, null, null));
            ClientTlsSession c = tls.newSession("localhost", net.controlPort);
            net.connect(c.context(), net.controlPort, c.peerHost(), c.cachePort(), true);
            List<Boolean> resumed = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                resumed.add(c.observer().resumed(net.connect(c.context(), net.dataPort, c.peerHost(), c.cachePort(), true)));
            }
            assertThat(resumed).containsOnly(true).hasSize(5);
            // Another FTP session to the same server: its own context, nothing to resume.
            ClientTlsSession other = tls.newSession("localhost", net.controlPort);
            assertThat(other.observer().resumed(net.connect(other.context(), net.dataPort, other.peerHost(), other.cachePort(), true)))
                    .isFalse();
            assertThat(net.accepted).extracting(TlsLoopback.Accepted::resumed)
                    .containsExactly(false, true, true, true, true, true, false);
        }
    }

    @Test
    void aClientCertificateIsPresentedWhenTheServerAsks() throws Exception {
        X509Bundle client = new CertificateBuilder().subject("CN=ftpgate").ecp256().buildIssuedBy(ca);
        Path cert = Files.writeString(dir.resolve("client.pem"), client.getCertificatePEM());
        Path key = Files.writeString(dir.resolve("client-key.pem"), client.getPrivateKeyPEM());
        SslContext demanding = SslContextBuilder.forServer(server.material().key(), server.material().chain())
                .sslProvider(SslProvider.JDK).trustManager(ca.getCertificate()).clientAuth(ClientAuth.REQUIRE).build();
        Settings.UpstreamTls base = policy(Settings.Verify.CA_FILE, null, null);
        Settings.UpstreamTls withCert = new Settings.UpstreamTls(base.mode(), base.verify(), base.caFile(), base.fingerprint(),
                base.sni(), Optional.of(cert), Optional.of(key), base.protection(), base.protocols());
        try (TlsLoopback net = new TlsLoopback(demanding, e -> false)) {
            ClientTlsSession c = ClientTls.create(withCert).newSession("localhost", net.controlPort);
            net.connect(c.context(), net.controlPort, c.peerHost(), c.cachePort(), true);
            ClientTlsSession none = ClientTls.create(base).newSession("localhost", net.controlPort);
            assertThatThrownBy(() -> net.connect(none.context(), net.controlPort, none.peerHost(), none.cachePort(), true))
                    .isNotNull();
            assertThat(net.accepted).hasSize(1);
        }
    }

    @Test
    void aMissingCaFileIsRefusedNamingIt() {
        Settings.UpstreamTls p = policy(Settings.Verify.CA_FILE, null, null);
        Path missing = dir.resolve("nope.pem");
        Settings.UpstreamTls bad = new Settings.UpstreamTls(p.mode(), p.verify(), Optional.of(missing), p.fingerprint(),
                p.sni(), p.clientCertificate(), p.clientKey(), p.protection(), p.protocols());
        assertThatThrownBy(() -> ClientTls.create(bad)).isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(missing + ": cannot read");
    }
}
