package io.ftpgate.session;

import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.Verbs;

/**
 * What the gateway does with each client command once the server is there: most are forwarded as
 * they are; the data-connection commands go to {@link DataNegotiation}; a few are answered or
 * refused by the gateway itself (LPRT/LPSV, AUTH), and FEAT's answer is filtered.
 */
final class CommandRouter {
    private final ControlSession s;
    private final DataNegotiation negotiation;
    private final DataConnectionCap dataCap;

    CommandRouter(ControlSession session) {
        this.s = session;
        this.negotiation = new DataNegotiation(session);
        this.dataCap = new DataConnectionCap(session.settings().abuse().maxDataConnections());
    }

    void handle(FtpCommand c) {
        switch (c.verb()) {
            case "PASV", "EPSV", "PORT", "EPRT" -> {
                if (dataCap.allows(s, c)) {
                    negotiation.handle(c);
                }
            }
            case "LPRT", "LPSV" -> s.refuse(Reason.LONG_ADDRESS);
            case "AUTH" -> s.refuse(Reason.TLS_UNSUPPORTED);
            case "ABOR" -> abort(c);
            case "REIN" -> {
                negotiation.reset();
                s.transfer(null);
                s.forward(c, new Passthrough(s));
            }
            case "FEAT" -> s.forward(c, new FeatFilter(s));
            case "USER", "PASS" -> {
                if (LoginGuard.allows(s)) {
                    s.forward(c, new Passthrough(s, true));
                }
            }
            default -> {
                if (Verbs.isTransfer(c.verb())) {
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
