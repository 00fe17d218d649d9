package io.ftpgate.tls;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;

/**
 * A self-signed certificate for the demo, made at start with Netty's certificate builder
 * (netty-pkitesting; Netty's own {@code SelfSignedCertificate} is deprecated and would otherwise
 * start {@code keytool}): an ECDSA P-256 key for {@code localhost}, 127.0.0.1 and ::1, valid for 30
 * days, written as PEM files so that the demo's listener reads them like any other.
 */
public final class DemoCertificate {

    static final Duration VALIDITY = Duration.ofDays(30);

    private DemoCertificate() {}

    /** Writes {@code demo-chain.pem} and {@code demo-key.pem} (owner-only) into {@code dir} and loads them. */
    public static TlsMaterial create(Path dir) throws TlsMaterialException {
        X509Bundle bundle;
        Instant now = Instant.now();
        try {
            bundle = new CertificateBuilder()
                    .subject("CN=ftpgate demo")
                    .addSanDnsName("localhost")
                    .addSanIpAddress("127.0.0.1")
                    .addSanIpAddress("::1")
                    .notBefore(now.minus(Duration.ofHours(1)))
                    .notAfter(now.plus(VALIDITY))
                    .setIsCertificateAuthority(true) // the builder signs self-signed certificates as roots only
                    .addExtendedKeyUsageServerAuth()
                    .ecp256()
                    .buildSelfSigned();
        } catch (Exception e) {
            throw new TlsMaterialException("cannot make the demo's self-signed certificate: " + e, e);
        }
        Path chain = dir.resolve("demo-chain.pem");
        Path key = dir.resolve("demo-key.pem");
        try {
            Files.writeString(chain, bundle.getCertificatePathPEM());
            Files.deleteIfExists(key);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, bundle.getPrivateKeyPEM());
        } catch (IOException e) {
            throw new TlsMaterialException(dir + ": cannot write the demo certificate: " + e.getMessage(), e);
        }
        return TlsMaterial.load(chain, key);
    }
}
