package io.ftpgate.tls;

import io.ftpgate.config.Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.FingerprintTrustManagerFactory;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A server-leg TLS policy made usable: the trust decision of its verification mode and the
 * optional client certificate, read once. Each FTP session takes its own client context from it
 * ({@link #newSession}), so that TLS sessions (and TLS 1.3 tickets) of different users never mix
 * and vanish with the FTP session.
 *
 * <p>Loading this class sets {@code jdk.tls.client.enableSessionTicketExtension=false} unless it is
 * set already: the JDK reads it for every new context, and with TLS 1.2 tickets the JDK client does
 * not resume against vsftpd (see the package documentation). TLS 1.3 is not affected.
 */
public final class ClientTls {

    static final String TLS12_TICKETS = JsseProperties.TLS12_TICKETS;

    static {
        JsseProperties.apply();
    }

    private final Settings.UpstreamTls policy;
    private final X509TrustManager trust;
    private final Optional<TlsMaterial> clientCertificate;

    private ClientTls(Settings.UpstreamTls policy, X509TrustManager trust, Optional<TlsMaterial> clientCertificate) {
        this.policy = policy;
        this.trust = trust;
        this.clientCertificate = clientCertificate;
    }

    /** Reads what {@code policy} names (CA file, client certificate) and checks it. */
    public static ClientTls create(Settings.UpstreamTls policy) throws TlsMaterialException {
        Optional<TlsMaterial> client = Optional.empty();
        if (policy.clientCertificate().isPresent() && policy.clientKey().isPresent()) {
            client = Optional.of(TlsMaterial.load(policy.clientCertificate().get(), policy.clientKey().get()));
        }
        ServerTls.requireAvailable(policy.provider());
        ClientTls tls = new ClientTls(policy, trustManager(policy), client);
        try {
            tls.newSession("localhost", 21);
        } catch (SSLException e) {
            throw new TlsMaterialException("cannot build a TLS client context for upstream-tls: " + e.getMessage(), e);
        }
        return tls;
    }

    public Settings.UpstreamTls policy() {
        return policy;
    }

    /**
     * A client context for one FTP session towards {@code serverHost}, whose control connection
     * goes to {@code controlPort}. Its handlers carry (server name, control port) as peer hint, also
     * on data connections, so that these resume the control connection's TLS session.
     */
    public ClientTlsSession newSession(String serverHost, int controlPort) throws SSLException {
        ResumptionObserver observer = new ResumptionObserver(trust);
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(ServerTls.sslProvider(policy.provider()))
                .protocols(policy.protocols())
                .trustManager(observer);
        // Endpoint identification stays "HTTPS" (Netty's default) in every mode: the JDK resumes a
        // TLS 1.2 session without extended master secret only with it (ftps.md §2.2). Fingerprint
        // and insecure trust managers do not check names themselves.
        clientCertificate.ifPresent(m -> builder.keyManager(m.key(), m.chain()));
        SslContext context = builder.build();
        return new ClientTlsSession(context, observer, policy.sni().orElse(serverHost), controlPort);
    }

    private static X509TrustManager trustManager(Settings.UpstreamTls policy) throws TlsMaterialException {
        try {
            return switch (policy.verify()) {
                case SYSTEM -> x509(defaultFactory((KeyStore) null).getTrustManagers());
                case CA_FILE -> {
                    var file = policy.caFile().orElseThrow(() -> new TlsMaterialException("verify = ca-file needs ca-file"));
                    List<X509Certificate> cas = TlsMaterial.readChainUnordered(file);
                    KeyStore store = KeyStore.getInstance("PKCS12");
                    store.load(null, null);
                    for (int i = 0; i < cas.size(); i++) {
                        store.setCertificateEntry("ca-" + i, cas.get(i));
                    }
                    yield x509(defaultFactory(store).getTrustManagers());
                }
                case FINGERPRINT -> x509(FingerprintTrustManagerFactory.builder("SHA-256")
                        .fingerprints(policy.fingerprint().orElseThrow(
                                () -> new TlsMaterialException("verify = fingerprint needs fingerprint")))
                        .build().getTrustManagers());
                case INSECURE -> x509(InsecureTrustManagerFactory.INSTANCE.getTrustManagers());
            };
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot set up the verification of server certificates (" + policy.verify()
                    + "): " + e.getMessage(), e);
        }
    }

    private static TrustManagerFactory defaultFactory(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf;
    }

    private static X509TrustManager x509(TrustManager[] managers) {
        for (TrustManager m : managers) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X509TrustManager");
    }
}
