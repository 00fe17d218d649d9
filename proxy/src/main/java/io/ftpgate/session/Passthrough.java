package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;

/** A forwarded command whose replies go to the client unchanged. */
final class Passthrough extends Exchange {
    private final ControlSession session;
    private final boolean login;

    Passthrough(ControlSession session) {
        this(session, false);
    }

    /** @param login whether this is USER/PASS, whose 230 or 530 ends a login attempt */
    Passthrough(ControlSession session, boolean login) {
        this.session = session;
        this.login = login;
    }

    @Override
    void onReply(FtpReply reply) {
        if (login && (reply.code() == 230 || reply.code() == 530)) {
            session.loginEnded(reply.code() == 230);
        }
        deliver(reply);
        if (reply.isFinal()) {
            complete();
        }
    }
}
