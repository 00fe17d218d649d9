package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading the gateway's certificate and key as an admin hands them over, and every refusal naming the file. */
class TlsMaterialTest {
    @TempDir
    Path dir;

    static final Instant NOT_AFTER = Instant.parse("2027-03-01T12:00:00Z");

    static X509Bundle bundle(String algorithm) throws Exception {
        CertificateBuilder b = new CertificateBuilder().subject("CN=ftp.example.net").addSanDnsName("ftp.example.net")
                .notBefore(Instant.parse("2026-01-01T00:00:00Z")).notAfter(NOT_AFTER).setIsCertificateAuthority(true);
        return (algorithm.equals("rsa") ? b.rsa2048() : b.ecp256()).buildSelfSigned();
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void openssl(String... args) throws Exception {
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    void pkcs8KeysAreRead() throws Exception {
        for (String algorithm : new String[] {"rsa", "ec"}) {
            X509Bundle b = bundle(algorithm);
            TlsMaterial m = TlsMaterial.load(write("chain.pem", b.getCertificatePathPEM()), write("pkcs8.pem", b.getPrivateKeyPEM()));
            assertThat(m.leaf()).isEqualTo(b.getCertificate());
            assertThat(m.key().getEncoded()).isEqualTo(b.getKeyPair().getPrivate().getEncoded());
            assertThat(m.notAfter()).isEqualTo(NOT_AFTER);
            assertThat(m.keyManagerFactory().getKeyManagers()).isNotEmpty();
        }
    }

    /** Keys as `openssl genrsa -traditional` (PKCS#1) and `openssl ecparam -genkey` (SEC1 after EC PARAMETERS) write them. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"genrsa -traditional -out {} 2048", "ecparam -name prime256v1 -genkey -out {}"})
    void traditionalOpensslKeysAreRead(String generate) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl");
        Path key = dir.resolve("key.pem");
        Path chain = dir.resolve("chain.pem");
        Path pkcs8 = dir.resolve("pkcs8.pem");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("/usr/bin/openssl"));
        cmd.addAll(java.util.List.of(generate.replace("{}", key.toString()).split(" ")));
        openssl(cmd.toArray(String[]::new));
        openssl("/usr/bin/openssl", "req", "-x509", "-new", "-key", key.toString(), "-subj", "/CN=ftp.example.net",
                "-days", "30", "-out", chain.toString());
        openssl("/usr/bin/openssl", "pkey", "-in", key.toString(), "-out", pkcs8.toString());
        assertThat(Files.readString(key)).containsAnyOf("BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY");
        TlsMaterial traditional = TlsMaterial.load(chain, key);
        assertThat(secret(traditional.key())).isEqualTo(secret(TlsMaterial.load(chain, pkcs8).key()));
    }

    private static java.math.BigInteger secret(java.security.PrivateKey key) {
        return key instanceof java.security.interfaces.ECPrivateKey ec ? ec.getS()
                : ((java.security.interfaces.RSAPrivateKey) key).getPrivateExponent();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedNamingBothFiles() throws Exception {
        Path chain = write("chain.pem", bundle("ec").getCertificatePathPEM());
        Path other = write("other-key.pem", bundle("ec").getPrivateKeyPEM());
        assertThatThrownBy(() -> TlsMaterial.load(chain, other)).isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(other + ": the private key does not belong to the certificate CN=ftp.example.net in " + chain);
        Path rsa = write("rsa-key.pem", bundle("rsa").getPrivateKeyPEM());
        assertThatThrownBy(() -> TlsMaterial.load(chain, rsa)).hasMessageContaining(rsa.toString())
                .hasMessageContaining("(a RSA key, a EC certificate)");
    }

    @Test
    void badFilesAreRefusedNamingTheFile() throws Exception {
        X509Bundle b = bundle("ec");
        Path chain = write("chain.pem", b.getCertificatePathPEM());
        Path key = write("key.pem", b.getPrivateKeyPEM());
        Path garbage = write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(garbage, key)).isInstanceOf(TlsMaterialException.class)
                .hasMessageStartingWith(garbage + ": not a PEM certificate chain");
        Path empty = write("empty.pem", "");
        assertThatThrownBy(() -> TlsMaterial.load(empty, key)).hasMessageStartingWith(empty + ": holds no certificate");
        assertThatThrownBy(() -> TlsMaterial.load(chain, empty)).hasMessageStartingWith(empty + ": holds no PEM private key");
        assertThatThrownBy(() -> TlsMaterial.load(chain, chain)).hasMessageStartingWith(chain + ": holds no PEM private key");
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> TlsMaterial.load(missing, key)).hasMessageStartingWith(missing + ": cannot read the certificate file");
    }

    @Test
    void aChainInTheWrongOrderIsRefused() throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=Example CA").setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=ftp.example.net").ecp256().buildIssuedBy(ca);
        Path key = write("key.pem", leaf.getPrivateKeyPEM());
        TlsMaterial good = TlsMaterial.load(write("good.pem", leaf.getCertificatePEM() + ca.getCertificatePEM()), key);
        assertThat(good.chain()).hasSize(2);
        Path reversed = write("reversed.pem", ca.getCertificatePEM() + leaf.getCertificatePEM());
        assertThatThrownBy(() -> TlsMaterial.load(reversed, key)).hasMessageStartingWith(reversed + ": certificate 2 (CN=ftp.example.net) did not issue certificate 1 (CN=Example CA)");
    }

    @Test
    void anEncryptedKeyIsRefusedWithAHint() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl");
        X509Bundle b = bundle("ec");
        Path plain = write("plain.pem", b.getPrivateKeyPEM());
        Path encrypted = dir.resolve("encrypted.pem");
        Process p = new ProcessBuilder("/usr/bin/openssl", "pkcs8", "-topk8", "-in", plain.toString(), "-out",
                encrypted.toString(), "-passout", "pass:secret").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(encrypted)).contains("BEGIN ENCRYPTED PRIVATE KEY");
        Path chain = write("chain.pem", b.getCertificatePathPEM());
        assertThatThrownBy(() -> TlsMaterial.load(chain, encrypted))
                .hasMessageStartingWith(encrypted + ": the private key is encrypted; ftpgate needs it unencrypted");
    }

    @Test
    void theFingerprintIsTheOneOpensslPrints() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl");
        X509Bundle b = bundle("rsa");
        Path chain = write("chain.pem", b.getCertificatePathPEM());
        TlsMaterial m = TlsMaterial.load(chain, write("key.pem", b.getPrivateKeyPEM()));
        Process p = new ProcessBuilder("/usr/bin/openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", chain.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertThat(out).isEqualTo("sha256 Fingerprint=" + m.fingerprint());
    }

    @Test
    void expiryIsToldInDaysAndAnExpiredCertificateIsRefused() throws Exception {
        X509Bundle b = bundle("ec");
        Path chain = write("chain.pem", b.getCertificatePathPEM());
        TlsMaterial m = TlsMaterial.load(chain, write("key.pem", b.getPrivateKeyPEM()));
        assertThat(m.describe(NOT_AFTER.minus(Duration.ofDays(86)).minusSeconds(60)))
                .startsWith("certificate " + chain + " (CN=ftp.example.net, SHA-256 " + m.fingerprint() + ")")
                .endsWith(" expires 2027-03-01 12:00 UTC (in 86 days)");
        assertThat(m.describe(NOT_AFTER.plus(Duration.ofDays(3)))).endsWith(" expired 2027-03-01 12:00 UTC (3 days ago)");
        m.checkValidAt(NOT_AFTER.minusSeconds(1));
        assertThatThrownBy(() -> m.checkValidAt(NOT_AFTER.plusSeconds(1)))
                .hasMessage(chain + ": the certificate expired on 2027-03-01 12:00 UTC");
        assertThatThrownBy(() -> m.checkValidAt(Instant.parse("2025-12-31T00:00:00Z")))
                .hasMessage(chain + ": the certificate is valid only from 2026-01-01 00:00 UTC");
    }
}
