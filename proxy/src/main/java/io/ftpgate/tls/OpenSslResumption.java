package io.ftpgate.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import javax.net.ssl.SSLEngine;

/**
 * Whether a handshake of Netty's OpenSSL provider resumed a session: BoringSSL's own answer
 * ({@code SSL_session_reused}). {@link FullHandshakeProbe} cannot tell there, as BoringSSL picks
 * its certificate before it decides on resumption (ftps.md §10.1). Netty's
 * {@code isSessionReused} is not public; {@code sslPointer()} and {@code SSL} are.
 */
final class OpenSslResumption implements ResumptionProbe {

    @Override
    public boolean resumed(SSLEngine engine) {
        if (!(engine instanceof ReferenceCountedOpenSslEngine openssl)) {
            throw new IllegalArgumentException("not an OpenSSL engine: " + engine.getClass().getName());
        }
        synchronized (openssl) {
            long ssl = openssl.sslPointer();
            // 0 once the engine is freed (closed): nothing can be said then; count it as a full handshake.
            return ssl != 0 && SSL.isSessionReused(ssl);
        }
    }
}
