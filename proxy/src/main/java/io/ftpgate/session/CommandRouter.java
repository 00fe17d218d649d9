package io.ftpgate.session;

import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.Verbs;

/**
 * What the gateway does with each client command once the server is there: most are forwarded as
 * they are; the data-connection commands go to {@link DataNegotiation}; the TLS commands to
 * {@link ClientTlsCommands}; a few are refused by the gateway itself (LPRT/LPSV, REIN under TLS),
 * and FEAT's answer is rewritten.
 */
final class CommandRouter {
    private final ControlSession s;
    private final DataNegotiation negotiation;
    private final DataConnectionCap dataCap;
    private final ClientTlsCommands tls;

    CommandRouter(ControlSession session) {
        this.s = session;
        this.negotiation = new DataNegotiation(session);
        this.dataCap = new DataConnectionCap(session.settings().abuse().maxDataConnections());
        this.tls = new ClientTlsCommands(session);
    }

    /** AUTH, PBSZ, PROT, CCC: the client leg's TLS, answered by the gateway. */
    void tlsCommand(FtpCommand c) {
        tls.handle(c);
    }

    void handle(FtpCommand c) {
        switch (c.verb()) {
            case "PASV", "EPSV", "PORT", "EPRT" -> {
                if (dataCap.allows(s, c)) {
                    negotiation.handle(c);
                }
            }
            case "LPRT", "LPSV" -> s.refuse(Reason.LONG_ADDRESS);
            case "AUTH", "PBSZ", "PROT", "CCC" -> tls.handle(c);
            case "ABOR" -> abort(c);
            case "REIN" -> {
                if (s.clientTls().isActive() || s.serverTls().isActive()) {
                    // RFC 4217 §11: REIN would have to take TLS down again.
                    s.deliver(FtpReply.of(502, "REIN is not available while TLS is in use"));
                    return;
                }
                negotiation.reset();
                s.loggedOut();
                s.transfer(null);
                s.forward(c, new Passthrough(s));
            }
            case "FEAT" -> s.forward(c, new FeatFilter(s));
            case "USER", "PASS" -> {
                ClientLegTls t = s.clientTls();
                if (!LoginGuard.allows(s)) {
                    return; // banned: answered with 421, the session ends
                } else if (t.offered() && t.settings().clientLeg().required() && !t.isActive()) {
                    s.refuse(Reason.TLS_REQUIRED);
                } else {
                    s.forward(c, new Passthrough(s, true));
                }
            }
            default -> {
                if (Verbs.isTransfer(c.verb())) {
                    ClientLegTls t = s.clientTls();
                    if (t.isActive() && !t.privateData() && !t.settings().clientLeg().allowClearData()) {
                        s.refuse(Reason.PROT_REQUIRED);
                        return;
                    }
                    negotiation.handle(c);
                } else {
                    s.forward(c, new Passthrough(s));
                }
            }
        }
    }

    /** ABOR (RFC 959 §4.1.3), also while something is outstanding: sent at once; an unused negotiation is dropped. */
    void abort(FtpCommand c) {
        DataTransfer t = s.transfer();
        if (t != null && !t.isSpent()) {
            t.cancel("ABOR");
        }
        s.forward(c, new Passthrough(s));
    }
}
