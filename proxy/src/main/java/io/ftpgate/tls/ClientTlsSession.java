package io.ftpgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * The server leg's TLS for one FTP session (the gateway is the TLS client).
 *
 * @param peerHost the server name: SNI (when it is a DNS name), host-name check, session cache key
 * @param cachePort the control connection's port: the cache key's port on every connection
 */
public record ClientTlsSession(SslContext context, ResumptionObserver observer, String peerHost, int cachePort) {

    /**
     * A handler for the control connection or any data connection of this FTP session. All carry
     * (peerHost, cachePort) as peer hint, whatever port they connect to: the JDK and OpenSSL client
     * caches look sessions up by that pair only, so a data connection offers the control
     * connection's session (or the newest TLS 1.3 ticket) to the server.
     */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc, peerHost, cachePort);
    }

    /** After {@code handler}'s handshake succeeded: was the session resumed? Ask once. */
    public boolean resumed(SslHandler handler) {
        return observer.resumed(handler.engine());
    }
}
