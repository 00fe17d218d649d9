package io.ftpgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * The client leg's TLS for one FTP session (the gateway is the TLS server): one context for the
 * control connection and all its data connections, and the probe that tells whether a data
 * connection resumed one of this context's sessions.
 */
public record ServerTlsSession(SslContext context, ResumptionProbe probe) {

    /**
     * The control connection's handler. {@code startTls}: explicit FTPS, where the first flush (the
     * 234 reply to AUTH TLS) still goes out in clear (RFC 4217 §4); false for implicit FTPS.
     */
    public SslHandler newControlHandler(ByteBufAllocator alloc, boolean startTls) {
        return new SslHandler(context.newEngine(alloc), startTls);
    }

    /** A data connection's handler (TLS from its first byte, the gateway as server in either mode). */
    public SslHandler newDataHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }

    /** After {@code handler}'s handshake succeeded: did it resume a session of this FTP session? Ask once. */
    public boolean resumed(SslHandler handler) {
        return probe.resumed(handler.engine());
    }
}
