package io.ftpgate.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * A certificate chain and its private key, read from PEM files and checked: the chain parses and
 * runs leaf first, each certificate issued by the next; the key is unencrypted PKCS#8, PKCS#1 or
 * SEC1 and belongs to the leaf (a signature made with it verifies with the leaf's public key).
 * Every refusal names the file.
 */
public record TlsMaterial(Path certificateFile, Path keyFile, List<X509Certificate> chain, PrivateKey key) {

    public TlsMaterial {
        chain = List.copyOf(chain);
    }

    public static TlsMaterial load(Path certificateFile, Path keyFile) throws TlsMaterialException {
        List<X509Certificate> chain = readChain(certificateFile);
        PrivateKey key = readKey(keyFile);
        TlsMaterial material = new TlsMaterial(certificateFile, keyFile, chain, key);
        material.checkKeyMatches();
        return material;
    }

    /** The gateway's own certificate, first in the chain. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** SHA-256 of the leaf certificate (DER), upper-case hex with colons, as openssl prints it. */
    public String fingerprint() {
        return fingerprint(leaf());
    }

    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    /**
     * What an admin needs to know about the certificate, e.g. {@code certificate /etc/ftpgate/chain.pem
     * (CN=ftp.example.net, SHA-256 AB:CD:...) expires 2027-03-01 12:00 UTC (in 86 days)}.
     */
    public String describe(Instant now) {
        String when = EXPIRY.format(notAfter());
        long days = Duration.between(now, notAfter()).toDays();
        String relative = now.isAfter(notAfter()) ? "expired " + when + " (" + Math.abs(days) + " days ago)"
                : "expires " + when + " (in " + days + (days == 1 ? " day)" : " days)");
        return "certificate " + certificateFile + " (" + leaf().getSubjectX500Principal().getName() + ", SHA-256 "
                + fingerprint() + ") " + relative;
    }

    /** Refuses a certificate that is not valid at {@code now} (expired, or not valid yet). */
    public void checkValidAt(Instant now) throws TlsMaterialException {
        if (now.isAfter(notAfter())) {
            throw new TlsMaterialException(certificateFile + ": the certificate expired on " + EXPIRY.format(notAfter()));
        }
        if (now.isBefore(leaf().getNotBefore().toInstant())) {
            throw new TlsMaterialException(certificateFile + ": the certificate is valid only from "
                    + EXPIRY.format(leaf().getNotBefore().toInstant()));
        }
    }

    private static final DateTimeFormatter EXPIRY =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** A key manager factory holding this chain and key only. */
    public KeyManagerFactory keyManagerFactory() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] none = new char[0];
            store.setKeyEntry("ftpgate", key, none, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, none);
            return kmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("an in-memory key store cannot hold " + certificateFile + ": " + e, e);
        }
    }

    /** Certificates of a PEM chain file, leaf first; at least one. */
    static List<X509Certificate> readChain(Path file) throws TlsMaterialException {
        List<X509Certificate> chain = readChainUnordered(file);
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (!chain.get(i).getIssuerX500Principal().equals(chain.get(i + 1).getSubjectX500Principal())) {
                throw new TlsMaterialException(file + ": certificate " + (i + 2) + " (" + chain.get(i + 1).getSubjectX500Principal()
                        + ") did not issue certificate " + (i + 1) + " (" + chain.get(i).getSubjectX500Principal()
                        + "): put the gateway's certificate first, then each issuer");
            }
        }
        return chain;
    }

    /** Certificates of a PEM file in any order (trusted CAs); at least one. */
    static List<X509Certificate> readChainUnordered(Path file) throws TlsMaterialException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var c : factory.generateCertificates(in)) {
                chain.add((X509Certificate) c);
            }
        } catch (IOException e) {
            throw new TlsMaterialException(file + ": cannot read the certificate file: " + e.getMessage(), e);
        } catch (CertificateException e) {
            throw new TlsMaterialException(file + ": not a PEM certificate chain: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new TlsMaterialException(file + ": holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)");
        }
        return chain;
    }

    private static PrivateKey readKey(Path file) throws TlsMaterialException {
        try (Reader reader = Files.newBufferedReader(file); PEMParser pem = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
                    throw new TlsMaterialException(file + ": the private key is encrypted; ftpgate needs it unencrypted"
                            + " (openssl pkey -in " + file + " -out key.pem), readable only by ftpgate");
                }
                // Anything else (EC PARAMETERS before an EC key, a certificate) is skipped.
            }
        } catch (IOException e) {
            throw new TlsMaterialException(file + ": cannot read the private key: " + e.getMessage(), e);
        }
        throw new TlsMaterialException(file + ": holds no PEM private key (expected \"BEGIN PRIVATE KEY\","
                + " \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\")");
    }

    private void checkKeyMatches() throws TlsMaterialException {
        PublicKey pub = leaf().getPublicKey();
        String mismatch = keyFile + ": the private key does not belong to the certificate " + leaf().getSubjectX500Principal()
                + " in " + certificateFile;
        if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
            throw new TlsMaterialException(mismatch + " (a " + key.getAlgorithm() + " key, a " + pub.getAlgorithm() + " certificate)");
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = signature(key.getAlgorithm());
            signer.initSign(key);
            signer.update(challenge);
            byte[] signed = signer.sign();
            Signature verifier = signature(key.getAlgorithm());
            verifier.initVerify(pub);
            verifier.update(challenge);
            if (!verifier.verify(signed)) {
                throw new TlsMaterialException(mismatch);
            }
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(mismatch + ": " + e.getMessage(), e);
        }
    }

    private Signature signature(String keyAlgorithm) throws GeneralSecurityException, TlsMaterialException {
        switch (keyAlgorithm.toUpperCase(Locale.ROOT)) {
            case "RSA":
                return Signature.getInstance("SHA256withRSA");
            case "EC":
                return Signature.getInstance("SHA256withECDSA");
            case "EDDSA", "ED25519", "ED448":
                return Signature.getInstance(keyAlgorithm);
            case "RSASSA-PSS":
                Signature pss = Signature.getInstance("RSASSA-PSS");
                pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                return pss;
            default:
                throw new TlsMaterialException(keyFile + ": keys of type " + keyAlgorithm + " are not supported (RSA, EC, EdDSA)");
        }
    }
}
