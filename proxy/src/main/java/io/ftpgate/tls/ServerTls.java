package io.ftpgate.tls;

import io.ftpgate.config.Settings;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A listener's client-leg TLS as loaded at one moment: the gateway's certificate and key (read
 * once), the protocol versions and the provider ({@code tls.provider}). Each FTP session takes its own server context from it
 * ({@link #newSession()}), so that its data connections can resume only sessions of its own
 * control connection (ftps.md §3: the session cache and the ticket keys live in the context).
 * Immutable; a reload makes a new one ({@link ServerTlsHolder}).
 */
public final class ServerTls {

    static {
        JsseProperties.apply();
    }

    /** Sessions one FTP session's context remembers: its control connection and recent data connections. */
    static final int SESSION_CACHE_SIZE = 64;
    /** How long a TLS session can be resumed, seconds: a long FTP session keeps resuming. */
    static final long SESSION_TIMEOUT_SECONDS = 24 * 3600;

    private final TlsMaterial material;
    private final List<String> protocols;
    private final Settings.TlsProvider provider;
    private final X509ExtendedKeyManager keyManager;

    private ServerTls(TlsMaterial material, List<String> protocols, Settings.TlsProvider provider) throws TlsMaterialException {
        this.material = material;
        this.protocols = List.copyOf(protocols);
        this.provider = provider;
        requireAvailable(provider);
        KeyManagerFactory kmf = material.keyManagerFactory();
        X509ExtendedKeyManager km = null;
        for (KeyManager k : kmf.getKeyManagers()) {
            if (k instanceof X509ExtendedKeyManager x) {
                km = x;
            }
        }
        if (km == null) {
            throw new IllegalStateException("the JDK offers no X509ExtendedKeyManager");
        }
        this.keyManager = km;
        try {
            newSession(); // fails now rather than at the first client: unsupported protocols, key types
        } catch (SSLException e) {
            throw new TlsMaterialException(material.certificateFile() + ": cannot build a TLS server context: " + e.getMessage(), e);
        }
    }

    /** Reads and checks the listener's certificate and key. */
    public static ServerTls load(Settings.ListenerTls settings) throws TlsMaterialException {
        if (settings.certificate().isEmpty() || settings.privateKey().isEmpty()) {
            throw new TlsMaterialException("TLS mode " + settings.mode() + " needs a certificate and a private key");
        }
        return of(TlsMaterial.load(settings.certificate().get(), settings.privateKey().get()), settings.protocols(),
                settings.provider());
    }

    /** With the JDK provider. */
    public static ServerTls of(TlsMaterial material, List<String> protocols) throws TlsMaterialException {
        return of(material, protocols, Settings.TlsProvider.JDK);
    }

    public static ServerTls of(TlsMaterial material, List<String> protocols, Settings.TlsProvider provider)
            throws TlsMaterialException {
        return new ServerTls(material, protocols, provider);
    }

    /**
     * Refuses {@code openssl} where netty-tcnative cannot be loaded (another OS or CPU, a missing
     * library), with Netty's reason, rather than failing at the first client.
     */
    static void requireAvailable(Settings.TlsProvider provider) throws TlsMaterialException {
        if (provider == Settings.TlsProvider.OPENSSL && !OpenSsl.isAvailable()) {
            Throwable cause = OpenSsl.unavailabilityCause();
            throw new TlsMaterialException("tls.provider = openssl, but Netty's OpenSSL provider (netty-tcnative) cannot be"
                    + " loaded here: " + cause + "; use tls.provider = jdk", cause);
        }
    }

    static SslProvider sslProvider(Settings.TlsProvider provider) {
        return provider == Settings.TlsProvider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    public TlsMaterial material() {
        return material;
    }

    public List<String> protocols() {
        return protocols;
    }

    public Settings.TlsProvider provider() {
        return provider;
    }

    /**
     * A server context for one FTP session, with its own session cache (and, with OpenSSL, its own
     * ticket keys) and resumption probe.
     */
    public ServerTlsSession newSession() throws SSLException {
        ResumptionProbe probe;
        SslContextBuilder builder;
        if (provider == Settings.TlsProvider.OPENSSL) {
            probe = new OpenSslResumption();
            builder = SslContextBuilder.forServer(material.key(), material.chain());
        } else {
            FullHandshakeProbe keys = new FullHandshakeProbe(keyManager);
            probe = keys;
            builder = SslContextBuilder.forServer(keys);
        }
        SslContext context = builder
                .sslProvider(sslProvider(provider))
                .protocols(protocols)
                .sessionCacheSize(SESSION_CACHE_SIZE)
                .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                .build();
        return new ServerTlsSession(context, probe);
    }
}
