package io.ftpgate.session;

import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;

/**
 * Data connections one session may negotiate in all (abuse.max-data-connections): each PASV,
 * EPSV, PORT or EPRT counts (EPSV ALL does not), as each may cost a port, a firewall lease and a
 * connection to the server. One more gets 425 saying so; the session goes on (it can still QUIT,
 * or log in again in a new session). Event-loop confined.
 */
final class DataConnectionCap {
    private final int max;
    private int negotiated;

    /** @param max 0: no limit */
    DataConnectionCap(int max) {
        this.max = max;
    }

    /** Whether {@code c} may negotiate a data connection; if not, the client has its 425. */
    boolean allows(ControlSession s, FtpCommand c) {
        if (c.is("EPSV") && c.argument().trim().equalsIgnoreCase("ALL")) {
            return true;
        }
        if (max > 0 && negotiated >= max) {
            s.refuse(Reason.DATA_CONNECTION_LIMIT, max);
            return false;
        }
        negotiated++;
        return true;
    }
}
