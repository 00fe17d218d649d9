package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;

/**
 * A command the gateway sent to the server, waiting for its reply. Replies go to the oldest
 * exchange that has not had its final reply (RFC 959 §4.2: one final reply per command, after any
 * number of 1xx). An exchange may stay open after its final reply while the gateway finishes local
 * work (binding a port, opening the firewall) before the client may be answered; commands behind
 * it wait until then.
 */
abstract class Exchange {
    private boolean finalReceived;
    private boolean complete;
    private ControlSession session;
    /** The verb of the command the server is answering (upper case); null for local work. */
    private String verb;
    /** The client command this exchange works for (its reply is owed there); null for none. */
    private OwedReplies.Owed owner;

    final void bind(ControlSession session, String verb, OwedReplies.Owed owner) {
        this.session = session;
        this.verb = verb;
        this.owner = owner;
    }

    /** For local work that must hold the queue but sends nothing to the server. */
    final void bindLocal(ControlSession session, OwedReplies.Owed owner) {
        this.session = session;
        this.finalReceived = true;
        this.owner = owner;
    }

    /** Sends a reply to the client for the command this exchange works for, in command order. */
    final void deliver(FtpReply reply) {
        session.deliver(owner, reply);
    }

    /** The verb of the command whose replies this exchange takes; null for local work. */
    final String verb() {
        return verb;
    }

    final boolean wantsReplies() {
        return !finalReceived;
    }

    final boolean isComplete() {
        return complete;
    }

    /** Routes one server reply here. */
    final void reply(FtpReply reply) {
        if (reply.isFinal()) {
            finalReceived = true;
        }
        onReply(reply);
    }

    /** Sends a follow-up command to the server within this exchange (e.g. PASV after EPSV failed). */
    final void resend(io.ftpgate.protocol.FtpCommand command) {
        finalReceived = false;
        verb = command.verb();
        session.sendToServer(command);
    }

    /**
     * Marks the exchange done; the session sends the next queued command. If this was the last
     * exchange of its command and the client had no final reply, the gateway sends one
     * ({@link OwedReplies}).
     */
    final void complete() {
        if (!complete) {
            complete = true;
            session.exchangeCompleted(owner);
        }
    }

    /** Handles a reply; call {@link #complete()} once the client has been answered. */
    abstract void onReply(FtpReply reply);
}
