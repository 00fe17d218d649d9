package io.ftpgate.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Tells, on the gateway's TLS <em>server</em> side (client leg), whether a handshake resumed a session
 * or was a full one: a key manager that notes every engine for which SunJSSE picks a server
 * certificate. SunJSSE asks for the certificate only in a full handshake (TLS 1.2 ServerHello
 * possessions, TLS 1.3 Certificate message); a resumption (TLS 1.2 session id or ticket, TLS 1.3 PSK)
 * skips both. Verified for TLS 1.2 and 1.3 on JDK 17.0.15 by {@code TlsResumptionTest}.
 *
 * <p>Session ids cannot answer the question: under TLS 1.3 a resumed session gets a new id
 * (JDK-8227105). Only for the JDK provider: BoringSSL picks its certificate before it decides on
 * resumption (there, ask {@code SSL.isSessionReused}). The engine must be the one Netty's handler
 * holds, which is the case for the JDK provider without ALPN.
 */
public final class FullHandshakeProbe extends X509ExtendedKeyManager implements ResumptionProbe {

    private final X509ExtendedKeyManager delegate;
    /** Engines that chose a certificate and whose handshake has not been asked about yet. */
    private final Set<SSLEngine> fullHandshakes = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<SSLEngine, Boolean>()));

    public FullHandshakeProbe(X509ExtendedKeyManager delegate) {
        this.delegate = delegate;
    }

    /**
     * After the handshake of {@code engine} succeeded: true if it resumed a session of the same
     * context, false for a full handshake. Ask once per engine.
     */
    @Override
    public boolean resumed(SSLEngine engine) {
        return !fullHandshakes.remove(engine);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        String alias = delegate.chooseEngineServerAlias(keyType, issuers, engine);
        if (alias != null && engine != null) {
            fullHandshakes.add(engine);
        }
        return alias;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return delegate.chooseEngineClientAlias(keyType, issuers, engine);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return delegate.getPrivateKey(alias);
    }

    /** For tests: engines noted and not yet asked about. */
    int pending() {
        return fullHandshakes.size();
    }
}
