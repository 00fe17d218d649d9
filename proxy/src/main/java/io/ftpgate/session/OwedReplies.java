package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;
import java.util.ArrayDeque;
import java.util.function.Function;

/**
 * The invariant of the control connection, made explicit: every client command gets exactly one
 * final reply, in the order the client sent the commands (RFC 959 §4.2 and §5.4). Each command the
 * session takes on is {@linkplain #open opened} here; its replies go to the client at once while it
 * is the oldest unanswered command, and wait behind an older one otherwise (an ABOR's reply, sent
 * at once to the server, waits for the reply owed to the PASV it cancelled).
 *
 * <p>A command whose exchanges have all completed without a final reply for the client (local work
 * cut short, say a negotiation cancelled while its firewall lease was being opened) gets a
 * fallback reply from the gateway instead of none, so the client is neither left waiting nor
 * answered off by one.
 */
final class OwedReplies {

    /** One client command, from the moment the session takes it on until its final reply. */
    static final class Owed {
        final String verb;
        /** Exchanges of this command that have not completed. */
        private int open;
        private boolean answered;
        /** Replies that wait for an older command's final reply; each with whether it is held (226). */
        private final ArrayDeque<Object[]> waiting = new ArrayDeque<>();

        private Owed(String verb) {
            this.verb = verb;
        }

        boolean isAnswered() {
            return answered;
        }
    }

    /** Where replies go, in order ({@link ReplyHold}). */
    interface Sink {
        void deliver(FtpReply reply);

        /** Holds {@code reply} and what follows until the transfer's data is out. */
        void holdFrom(FtpReply reply);
    }

    /** Small: a reply or two at a time (see ControlSession's queues). */
    private final ArrayDeque<Owed> owed = new ArrayDeque<>(2);
    private final Sink sink;
    private final Function<Owed, FtpReply> fallback;

    /** @param fallback the reply for a command that would otherwise get none (logged and counted there) */
    OwedReplies(Sink sink, Function<Owed, FtpReply> fallback) {
        this.sink = sink;
        this.fallback = fallback;
    }

    /** The session takes on a client command: it is owed a final reply after every older one. */
    Owed open(String verb) {
        Owed o = new Owed(verb);
        owed.add(o);
        return o;
    }

    /** An exchange (a command sent to the server, or local work) now works for {@code o}. */
    void exchangeStarted(Owed o) {
        if (o != null) {
            o.open++;
        }
    }

    /**
     * An exchange of {@code o} completed. If it was the last and the client has no final reply for
     * {@code o}, the fallback goes out now.
     */
    void exchangeCompleted(Owed o) {
        if (o != null && --o.open <= 0 && !o.answered) {
            settle(o);
        }
    }

    /**
     * The session moves on to the next command: {@code o}'s work is over, whatever was or was not
     * done. If no exchange of it is still open and it has had no final reply, it gets the fallback.
     */
    void settle(Owed o) {
        if (o != null && o.open <= 0 && !o.answered) {
            deliver(o, fallback.apply(o), false);
        }
    }

    /** A reply for {@code o} (null: not owed to any command, e.g. a 421 before closing): now, or after older ones. */
    void deliver(Owed o, FtpReply reply) {
        deliver(o, reply, false);
    }

    /** Like {@link #deliver}, for a transfer's final reply that the session holds until the data is out. */
    void hold(Owed o, FtpReply reply) {
        deliver(o, reply, true);
    }

    private void deliver(Owed o, FtpReply reply, boolean hold) {
        if (o == null || o == owed.peek() || !owed.contains(o)) {
            out(reply, hold);
        } else {
            o.waiting.add(new Object[] {reply, hold});
        }
        if (o != null && reply.isFinal()) {
            o.answered = true;
        }
        drain();
    }

    /** Drops answered commands from the front, sending what waited behind them. */
    private void drain() {
        while (!owed.isEmpty() && owed.peek().answered) {
            owed.poll();
            Owed next = owed.peek();
            if (next != null) {
                Object[] w;
                while ((w = next.waiting.poll()) != null) {
                    out((FtpReply) w[0], (Boolean) w[1]);
                }
            }
        }
    }

    private void out(FtpReply reply, boolean hold) {
        if (hold) {
            sink.holdFrom(reply);
        } else {
            sink.deliver(reply);
        }
    }
}
