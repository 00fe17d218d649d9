package io.ftpgate.session;

import io.ftpgate.tls.ServerTlsSession;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLException;

/**
 * One session's TLS towards its client (the gateway is the TLS server): whether the control
 * connection is secured, and the RFC 4217 protection state, PBSZ then PROT, that decides whether
 * data connections on the client leg are protected. One server context per FTP session
 * ({@link ServerTlsSession}), so a data connection can only resume this control connection's TLS.
 */
final class ClientLegTls {
    private final LegTls tls;
    private ServerTlsSession session;
    private boolean active;
    private boolean pbsz;
    private boolean privateData;

    ClientLegTls(LegTls tls) {
        this.tls = tls;
    }

    LegTls settings() {
        return tls;
    }

    boolean offered() {
        return tls.clientLegOn();
    }

    boolean isActive() {
        return active;
    }

    /** The control connection's handler; {@code startTls}: explicit (the 234 goes out in clear first). */
    SslHandler controlHandler(ByteBufAllocator alloc, boolean startTls) throws SSLException {
        if (session == null) {
            session = tls.server().newSession();
        }
        return session.newControlHandler(alloc, startTls);
    }

    /**
     * The control connection is secured. RFC 4217 §6: PBSZ and PROT start over; AUTH SSL and
     * AUTH TLS-P (RFC 2228's older names) imply PROT P.
     */
    void established(boolean impliesPrivate) {
        active = true;
        pbsz = impliesPrivate;
        privateData = impliesPrivate;
    }

    boolean pbszDone() {
        return pbsz;
    }

    void pbsz() {
        pbsz = true;
    }

    void privateData(boolean on) {
        privateData = on;
    }

    /** Whether the client's data connections are TLS (PROT P). */
    boolean privateData() {
        return active && privateData;
    }

    SslHandler dataHandler(ByteBufAllocator alloc) {
        return session.newDataHandler(alloc);
    }

    /** After a data handshake: did it resume this session's control connection? */
    boolean resumed(SslHandler dataHandler) {
        return session.resumed(dataHandler);
    }
}
