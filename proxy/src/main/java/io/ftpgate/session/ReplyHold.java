package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The replies a session owes its client, in order. Normally each goes out at once; while a
 * transfer's data is still on its way to the client, its final reply (226) and everything after it
 * are held, because a client that reads "226 complete" while bytes are still in the gateway may
 * take a short file for the whole one.
 */
final class ReplyHold implements OwedReplies.Sink {
    private final Consumer<FtpReply> write;
    private final Runnable flush;
    /** Small: a reply or two at a time (see ControlSession's queues). */
    private final ArrayDeque<FtpReply> held = new ArrayDeque<>(2);
    private boolean holding;

    /** @param write writes one reply to the client without flushing; {@code flush} flushes */
    ReplyHold(Consumer<FtpReply> write, Runnable flush) {
        this.write = write;
        this.flush = flush;
    }

    /** Sends {@code reply} now, or after the held ones. */
    @Override
    public void deliver(FtpReply reply) {
        if (holding) {
            held.add(reply);
        } else {
            write.accept(reply);
            flush.run();
        }
    }

    /** Holds {@code reply} and everything delivered after it until {@link #release}. */
    @Override
    public void holdFrom(FtpReply reply) {
        holding = true;
        held.add(reply);
    }

    boolean isHolding() {
        return holding;
    }

    /**
     * Sends what was held, in order. If {@code insteadOfSuccess} is not null and the first held
     * reply is a success, that one is replaced by it: the server finished, but the client's leg
     * failed, so the client must not read success.
     */
    void release(FtpReply insteadOfSuccess) {
        if (!holding) {
            return;
        }
        holding = false;
        FtpReply first = held.peek();
        if (insteadOfSuccess != null && first != null && first.isPositiveCompletion()) {
            held.poll();
            held.addFirst(insteadOfSuccess);
        }
        while (!held.isEmpty()) {
            write.accept(held.poll());
        }
        flush.run();
    }
}
