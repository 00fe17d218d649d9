package io.ftpgate.tls;

import javax.net.ssl.SSLEngine;

/**
 * Tells, on the gateway's TLS server side (client leg), whether a handshake that succeeded resumed
 * a session of the same context: {@link FullHandshakeProbe} for the JDK provider,
 * {@link OpenSslResumption} for the OpenSSL one. Ask once per engine.
 */
public interface ResumptionProbe {

    boolean resumed(SSLEngine engine);
}
