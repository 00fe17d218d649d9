package io.ftpgate.session;

import io.ftpgate.metrics.GatewayMetrics.TlsChannel;
import io.ftpgate.metrics.GatewayMetrics.TlsLeg;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.codec.FtpLineDecoder;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Secures a session's server leg the way an FTPS client does (RFC 4217 §§4–9; as ProFTPD's
 * mod_proxy does it): AUTH TLS (sent whether or not the server's FEAT lists it, so that a FEAT
 * stripped on the way cannot downgrade the leg), nothing may follow the 234 in clear, the
 * handshake, then PBSZ 0 and PROT as the data-protection policy says. The client's own AUTH, PBSZ
 * and PROT are never forwarded: each leg is negotiated by the gateway. Any failure ends the session
 * with a 421 that says why.
 */
final class ServerLegSecuring {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");

    private final ControlSession s;
    private long handshakeStart;

    ServerLegSecuring(ControlSession session) {
        this.s = session;
    }

    /** Implicit FTPS: the handshake starts with the connection; its result is watched from there. */
    void watchImplicit(SslHandler handler) {
        handshakeStart = System.nanoTime();
        handler.handshakeFuture().addListener(f -> {
            if (s.isEnded()) {
                return;
            }
            if (f.isSuccess()) {
                established(handler);
            } else {
                handshakeFailed(f.cause());
            }
        });
    }

    /**
     * @param viaAuth true: explicit (send AUTH TLS first); false: implicit, already handshaken
     * @param then    runs once the leg is secured and PROT is set
     */
    void secure(boolean viaAuth, Runnable then) {
        if (!viaAuth) {
            protect(then);
            return;
        }
        Channel server = s.serverChannel();
        FtpLineDecoder frame = (FtpLineDecoder) server.pipeline().get(PipelineNames.FRAME);
        frame.gate(line -> line.startsWith("234 "));
        s.forwardOwnCommand(FtpCommand.of("AUTH", "TLS"), new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                if (r.code() != 234) {
                    frame.gate(null);
                    frame.ungate(server);
                    complete();
                    failed("the server refused AUTH TLS (" + r.code() + ")");
                    return;
                }
                if (frame.pendingBytes() > 0) {
                    // The server (or someone in its path) sent more in clear after 234.
                    s.metrics().tlsInjectionRejected(TlsLeg.SERVER);
                    s.metrics().refused(Reason.TLS_INJECTION);
                    log.warn("session {}: the server sent {} bytes in clear after its 234; closing", s.id(), frame.pendingBytes());
                    complete();
                    failed("the server sent data in clear after 234");
                    return;
                }
                SslHandler h;
                try {
                    h = s.serverTls().controlHandler(server.alloc(), s.serverName(),
                            ((java.net.InetSocketAddress) server.remoteAddress()).getPort());
                } catch (SSLException e) {
                    complete();
                    failed("cannot build the TLS client: " + e.getMessage());
                    return;
                }
                handshakeStart = System.nanoTime();
                server.pipeline().addBefore(PipelineNames.FRAME, PipelineNames.TLS, h);
                frame.gate(null);
                frame.ungate(server);
                h.handshakeFuture().addListener(f -> {
                    if (s.isEnded()) {
                        return;
                    }
                    if (!f.isSuccess()) {
                        complete();
                        handshakeFailed(f.cause());
                        return;
                    }
                    established(h);
                    complete();
                    protect(then);
                });
            }
        });
    }

    private void established(SslHandler h) {
        s.serverTls().established();
        s.metrics().tlsHandshake(TlsLeg.SERVER, TlsChannel.CONTROL, false, true, System.nanoTime() - handshakeStart);
        log.info("session {}: server leg secured ({}, {})", s.id(), h.engine().getSession().getProtocol(),
                h.engine().getSession().getCipherSuite());
    }

    private void handshakeFailed(Throwable cause) {
        s.metrics().tlsHandshake(TlsLeg.SERVER, TlsChannel.CONTROL, false, false, System.nanoTime() - handshakeStart);
        failed("TLS handshake: " + LeaseHandle.rootMessage(cause));
    }

    /** PBSZ 0 (a refusal is tolerated: some servers need none), then PROT per policy. */
    private void protect(Runnable then) {
        s.forwardOwnCommand(FtpCommand.of("PBSZ", "0"), new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                complete();
                prot(s.serverTls().wantsPrivate(s.clientTls().privateData()), then);
            }
        });
    }

    /** Sets the server leg's PROT; {@code then} runs when the server agreed (or clear was asked). */
    void prot(boolean wantPrivate, Runnable then) {
        s.forwardOwnCommand(FtpCommand.of("PROT", wantPrivate ? "P" : "C"), new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                complete();
                if (r.isPositiveCompletion()) {
                    s.serverTls().privateData(wantPrivate);
                } else if (wantPrivate) {
                    failed("the server refused PROT P (" + r.code() + ")");
                    return;
                }
                then.run();
            }
        });
    }

    /** The server leg cannot be secured as asked: 421 to the client, logged, counted. */
    void failed(String why) {
        s.metrics().refused(Reason.UPSTREAM_TLS_FAILED);
        log.warn("session {}: cannot secure the server leg: {}", s.id(), why);
        s.deliver(FtpReply.of(421, Reason.UPSTREAM_TLS_FAILED.text(why)));
        s.end("server leg not secured: " + why);
    }
}
