package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;

/** A forwarded command whose replies go to the client unchanged. */
final class Passthrough extends Exchange {
    private final ControlSession session;

    Passthrough(ControlSession session) {
        this.session = session;
    }

    @Override
    void onReply(FtpReply reply) {
        session.deliver(reply);
        if (reply.isFinal()) {
            complete();
        }
    }
}
