package io.ftpgate.session;

import io.ftpgate.metrics.GatewayMetrics.TlsChannel;
import io.ftpgate.metrics.GatewayMetrics.TlsLeg;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.codec.FtpLineDecoder;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client leg's RFC 4217 commands, answered by the gateway (they are never forwarded: the
 * server leg is negotiated separately, see {@link ServerLegSecuring}).
 *
 * <ul>
 *   <li>AUTH TLS | TLS-C | SSL | TLS-P: 234 in clear, then the handshake (SSL and TLS-P imply PROT
 *       P, RFC 2228's older names). Anything the client sent in clear after the AUTH line is an
 *       injection (CVE-2011-0411): closed without a reply, logged, counted. Other mechanisms: 504.
 *       A second AUTH: 503. No TLS on the listener: 502.</li>
 *   <li>PBSZ: 503 before AUTH, else 200 PBSZ=0 (the only size for TLS).</li>
 *   <li>PROT: 503 before AUTH or PBSZ; C (534 where the listener allows only protected data) and
 *       P: 200; S and E: 536; anything else: 504.</li>
 *   <li>CCC: 534. Going back to clear text would only help a NAT box read the control connection,
 *       which the gateway already does.</li>
 * </ul>
 */
final class ClientTlsCommands {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");
    private static final Set<String> MECHANISMS = Set.of("TLS", "TLS-C", "SSL", "TLS-P");

    private final ControlSession s;

    ClientTlsCommands(ControlSession session) {
        this.s = session;
    }

    /** The AUTH line, for the framing decoder's gate. */
    static boolean isAuthLine(String line) {
        return line.length() >= 4 && line.regionMatches(true, 0, "AUTH", 0, 4) && (line.length() == 4 || line.charAt(4) == ' ');
    }

    void handle(FtpCommand c) {
        ClientLegTls tls = s.clientTls();
        switch (c.verb()) {
            case "AUTH" -> auth(c, tls);
            case "PBSZ" -> {
                if (!tls.isActive()) {
                    s.deliver(FtpReply.of(503, "PBSZ needs AUTH TLS first"));
                } else {
                    tls.pbsz();
                    s.deliver(FtpReply.of(200, "PBSZ=0"));
                }
            }
            case "PROT" -> prot(c, tls);
            default -> s.deliver(FtpReply.of(534, "CCC refused: the control connection stays protected"));
        }
    }

    private void auth(FtpCommand c, ClientLegTls tls) {
        Channel client = s.clientChannel();
        FtpLineDecoder frame = (FtpLineDecoder) client.pipeline().get(PipelineNames.FRAME);
        if (!tls.offered()) {
            s.refuse(Reason.TLS_UNSUPPORTED);
            return;
        }
        if (tls.isActive()) {
            s.deliver(FtpReply.of(503, "TLS is already in use (AUTH is accepted once)"));
            return;
        }
        String mechanism = c.argument().trim().toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(mechanism)) {
            s.deliver(FtpReply.of(504, "Unknown AUTH type (use AUTH TLS)"));
            frame.ungate(client);
            return;
        }
        if (frame.pendingBytes() > 0) {
            // Whatever came after the AUTH line was sent in clear before any answer: never read it.
            s.metrics().tlsInjectionRejected(TlsLeg.CLIENT);
            s.metrics().refused(Reason.TLS_INJECTION);
            log.warn("session {}: {} bytes in clear after AUTH, before TLS (STARTTLS injection); closing",
                    s.id(), frame.pendingBytes());
            s.end("bytes in clear after AUTH");
            return;
        }
        if (s.isHoldingReplies()) {
            s.deliver(FtpReply.of(503, "AUTH must wait until the transfer has ended"));
            frame.ungate(client);
            return;
        }
        SslHandler h;
        try {
            h = tls.controlHandler(client.alloc(), true);
        } catch (SSLException e) {
            log.error("session {}: cannot build the TLS server: {}", s.id(), e.getMessage());
            s.deliver(FtpReply.of(431, "Unable to accept security mechanism"));
            frame.ungate(client);
            return;
        }
        Exchange hold = new Exchange() {
            @Override
            void onReply(FtpReply reply) {
                // takes no replies: it holds the queue until the handshake is done
            }
        };
        s.forwardLocal(hold);
        client.pipeline().addBefore(PipelineNames.FRAME, PipelineNames.TLS, h);
        frame.gate(null);
        frame.ungate(client);
        // The first write after the handler is in place goes out in clear (startTls): the 234.
        s.deliver(FtpReply.of(234, "AUTH " + mechanism + " successful"));
        long start = System.nanoTime();
        h.handshakeFuture().addListener(f -> {
            if (s.isEnded()) {
                return;
            }
            long nanos = System.nanoTime() - start;
            if (!f.isSuccess()) {
                s.metrics().tlsHandshake(TlsLeg.CLIENT, TlsChannel.CONTROL, false, false, nanos);
                log.info("session {}: client TLS handshake failed: {}", s.id(), LeaseHandle.rootMessage(f.cause()));
                s.end("client TLS handshake failed");
                return;
            }
            tls.established(mechanism.equals("SSL") || mechanism.equals("TLS-P"));
            s.metrics().tlsHandshake(TlsLeg.CLIENT, TlsChannel.CONTROL, false, true, nanos);
            log.info("session {}: client leg secured ({}, {})", s.id(), h.engine().getSession().getProtocol(),
                    h.engine().getSession().getCipherSuite());
            if (s.serverTls().wanted(true) && !s.serverTls().isActive() && s.serverChannel() != null) {
                // upstream-tls = follow: the server leg is secured like the client's.
                s.securing().secure(true, hold::complete);
            } else {
                hold.complete();
            }
        });
    }

    private void prot(FtpCommand c, ClientLegTls tls) {
        if (!tls.isActive()) {
            s.deliver(FtpReply.of(503, "PROT needs AUTH TLS first"));
            return;
        }
        if (!tls.pbszDone()) {
            s.deliver(FtpReply.of(503, "PROT needs PBSZ first"));
            return;
        }
        String level = c.argument().trim().toUpperCase(Locale.ROOT);
        switch (level) {
            case "C" -> {
                if (!tls.settings().clientLeg().allowClearData()) {
                    s.deliver(FtpReply.of(534, "PROT C refused: this gateway allows only protected data connections"));
                    return;
                }
                setProt(tls, false);
            }
            case "P" -> setProt(tls, true);
            case "S", "E" -> s.deliver(FtpReply.of(536, "PROT " + level + " is not supported; use P or C"));
            default -> s.deliver(FtpReply.of(504, "Unknown PROT level"));
        }
    }

    /** Sets the client's level; with upstream protection = follow, the server leg's too, first. */
    private void setProt(ClientLegTls tls, boolean privateData) {
        tls.privateData(privateData);
        FtpReply ok = FtpReply.of(200, "PROT now " + (privateData ? "Private" : "Clear"));
        ServerLegTls server = s.serverTls();
        boolean wanted = server.wantsPrivate(privateData);
        if (server.isActive() && server.privateData() != wanted) {
            Exchange hold = new Exchange() {
                @Override
                void onReply(FtpReply reply) {
                    // holds the queue while the server's PROT is set
                }
            };
            s.forwardLocal(hold);
            s.securing().prot(wanted, () -> {
                s.deliver(ok);
                hold.complete();
            });
        } else {
            s.deliver(ok);
        }
    }
}
