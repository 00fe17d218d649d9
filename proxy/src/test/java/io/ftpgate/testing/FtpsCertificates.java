package io.ftpgate.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The PEM files of an FTPS test in a network-namespace topology, made at start with Netty's
 * pkitesting: a client CA that signs the gateway's certificates (its client-side addresses as IP
 * SANs) and that clients trust, and a server CA that signs the FTP servers' certificate (the
 * server's addresses and loopback as IP SANs) and that the gateway trusts with
 * {@code upstream-tls.verify = ca-file}. All files are readable by everyone (vsftpd, ProFTPD).
 */
public final class FtpsCertificates {

    /** One certificate chain and its key, as files. */
    public record Pem(Path chain, Path key, String subject, String sha256) {
    }

    public final Path clientCa;
    public final Path serverCa;
    public final Pem server;
    private final X509Bundle clientCaBundle;
    private final Path dir;

    private FtpsCertificates(Path dir) throws Exception {
        this.dir = Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        clientCaBundle = new CertificateBuilder().subject("CN=ftpgate test client-side CA").rsa2048()
                .setIsCertificateAuthority(true).buildSelfSigned();
        X509Bundle serverCaBundle = new CertificateBuilder().subject("CN=ftpgate test server-side CA").rsa2048()
                .setIsCertificateAuthority(true).buildSelfSigned();
        clientCa = write("client-ca.pem", clientCaBundle.getCertificatePEM());
        serverCa = write("server-ca.pem", serverCaBundle.getCertificatePEM());
        server = write("server", new CertificateBuilder().subject("CN=ftp server")
                .addSanIpAddress(Topology.SERVER_V4).addSanIpAddress(Topology.SERVER_V6).addSanIpAddress("127.0.0.1")
                .rsa2048().addExtendedKeyUsageServerAuth().buildIssuedBy(serverCaBundle));
    }

    /** Makes both CAs and the server's certificate in {@code dir}. */
    public static FtpsCertificates create(Path dir) {
        try {
            return new FtpsCertificates(dir);
        } catch (Exception e) {
            throw new IllegalStateException("cannot make the test certificates", e);
        }
    }

    /**
     * A gateway certificate named {@code cn}, issued by the client CA for the gateway's client-side
     * addresses and {@code moreAddresses} (a transparent gateway answers for the server's), written to {@code name}.pem and {@code name}.key (overwritten: a renewal).
     */
    public Pem gateway(String name, String cn, String... moreAddresses) {
        try {
            CertificateBuilder b = new CertificateBuilder().subject("CN=" + cn)
                    .addSanIpAddress(Topology.GATEWAY_CLIENT_SIDE_V4).addSanIpAddress(Topology.GATEWAY_CLIENT_SIDE_V6);
            for (String address : moreAddresses) {
                b.addSanIpAddress(address);
            }
            return write(name, b.rsa2048().addExtendedKeyUsageServerAuth().buildIssuedBy(clientCaBundle));
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a gateway certificate", e);
        }
    }

    private Pem write(String name, X509Bundle bundle) throws Exception {
        Path chain = write(name + ".pem", bundle.getCertificatePEM());
        Path key = write(name + ".key", bundle.getPrivateKeyPEM());
        String sha256 = HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(bundle.getCertificate().getEncoded()));
        return new Pem(chain, key, bundle.getCertificate().getSubjectX500Principal().getName(), sha256);
    }

    private Path write(String name, String pem) {
        try {
            Path file = dir.resolve(name);
            Path tmp = dir.resolve(name + ".tmp");
            Files.writeString(tmp, pem);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            // Renamed into place: a reload never reads half a file.
            return Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
