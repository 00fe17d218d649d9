package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.tls.ClientTlsSession;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLException;

/**
 * One session's TLS towards the FTP server (the gateway is the TLS client): the client context,
 * made for the server's name and control port, whose handlers carry that pair as peer hint on
 * data connections too, so that each data connection resumes the control connection's TLS session
 * (what vsftpd's require_ssl_reuse and ProFTPD's mod_tls ask for), and the PROT in force.
 */
final class ServerLegTls {
    private final LegTls tls;
    private ClientTlsSession session;
    private boolean active;
    private boolean privateData;

    ServerLegTls(LegTls tls) {
        this.tls = tls;
    }

    Settings.UpstreamTls policy() {
        return tls.serverLeg();
    }

    /** Whether the gateway secures the server leg, given whether the client leg is secured. */
    boolean wanted(boolean clientSecured) {
        if (!tls.serverLegOn()) {
            return false;
        }
        return tls.serverLeg().mode() != Settings.UpstreamTlsMode.FOLLOW || clientSecured;
    }

    boolean implicit() {
        return tls.serverLegOn() && tls.serverLeg().mode() == Settings.UpstreamTlsMode.IMPLICIT;
    }

    /** The control connection's handler; the session context is made for {@code host}:{@code port}. */
    SslHandler controlHandler(ByteBufAllocator alloc, String host, int port) throws SSLException {
        session = tls.client().newSession(host, port);
        return session.newHandler(alloc);
    }

    boolean isActive() {
        return active;
    }

    void established() {
        active = true;
    }

    /** The PROT the gateway wants on the server leg, for a client leg that is (or is not) private. */
    boolean wantsPrivate(boolean clientPrivate) {
        return switch (tls.serverLeg().protection()) {
            case PRIVATE -> true;
            case CLEAR -> false;
            case FOLLOW -> clientPrivate;
        };
    }

    void privateData(boolean on) {
        privateData = on;
    }

    boolean privateData() {
        return active && privateData;
    }

    /** A data connection's handler: same context, same peer hint as the control connection. */
    SslHandler dataHandler(ByteBufAllocator alloc) {
        return session.newHandler(alloc);
    }

    boolean resumed(SslHandler dataHandler) {
        return session.resumed(dataHandler);
    }
}
