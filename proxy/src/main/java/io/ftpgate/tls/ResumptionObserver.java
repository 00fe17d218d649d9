package io.ftpgate.tls;

import io.netty.handler.ssl.ResumableX509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Tells, on the gateway's TLS <em>client</em> side (server leg), whether a handshake resumed a
 * session: Netty 4.2 calls {@link #resumeServerTrusted} instead of {@code checkServerTrusted} when
 * the session of a handler made by {@code SslContext.newHandler(...)} was resumed (its
 * {@code ResumptionController}), for the JDK and the OpenSSL provider alike. Everything else is
 * delegated to the trust manager of the chosen verification mode.
 *
 * <p>A plain {@link X509TrustManager} delegate (fingerprint pin, insecure) gets no host-name check
 * from here: the pin names the certificate itself.
 */
public final class ResumptionObserver extends X509ExtendedTrustManager implements ResumableX509ExtendedTrustManager {

    private final X509TrustManager delegate;
    private final Set<SSLEngine> resumedEngines = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<SSLEngine, Boolean>()));

    public ResumptionObserver(X509TrustManager delegate) {
        this.delegate = delegate;
    }

    /** After the handshake of {@code engine} succeeded: true if it resumed a session. Ask once per engine. */
    public boolean resumed(SSLEngine engine) {
        return resumedEngines.remove(engine);
    }

    @Override
    public void resumeServerTrusted(X509Certificate[] chain, SSLEngine engine) {
        // The chain was verified when the session was first established; nothing to check again.
        resumedEngines.add(engine);
    }

    @Override
    public void resumeClientTrusted(X509Certificate[] chain, SSLEngine engine) {
        resumedEngines.add(engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        if (delegate instanceof X509ExtendedTrustManager x) {
            x.checkServerTrusted(chain, authType, engine);
        } else {
            delegate.checkServerTrusted(chain, authType);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        if (delegate instanceof X509ExtendedTrustManager x) {
            x.checkServerTrusted(chain, authType, socket);
        } else {
            delegate.checkServerTrusted(chain, authType);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        if (delegate instanceof X509ExtendedTrustManager x) {
            x.checkClientTrusted(chain, authType, engine);
        } else {
            delegate.checkClientTrusted(chain, authType);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        if (delegate instanceof X509ExtendedTrustManager x) {
            x.checkClientTrusted(chain, authType, socket);
        } else {
            delegate.checkClientTrusted(chain, authType);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
