package io.ftpgate.data;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;

/**
 * When a session may open a socket on its event loop: after the loop's current I/O batch.
 *
 * <p>Netty's epoll loop hands each event of one {@code epoll_wait} batch to the channel that owns
 * the event's descriptor <em>number</em> when the event is handled. A socket closed while the batch
 * is handled frees its number at once; a socket opened later in the same batch (a client accepted
 * on this loop whose session connects upstream from {@code channelActive}, a data connection or
 * listener opened for a command just read) gets the lowest free number, that one, and the closed
 * socket's event still waiting in the batch is handed to the new, not yet connected or bound
 * channel: a read fails with {@code NotYetConnectedException}, a FIN meant for the old socket
 * closes the new one (its connect then fails with a {@code ClosedChannelException} a few
 * milliseconds after the client connected), an accept on a listener not yet bound fails with
 * {@code EINVAL}. Issue #10 saw it under churn; before this, ChurnIT's 12,600 sessions logged 9
 * upstream connects failing so, 9 such accepts at a pipeline's tail and 5 data connects failing
 * with {@code NotYetConnectedException} (13 sessions failed); after it, none. StaleEpollEventTest
 * drives the race on purpose.
 *
 * <p>A task given to the loop runs after the batch, when no event of a closed socket is pending:
 * the kernel drops a closed socket's events, and the next {@code epoll_wait} reports only live
 * ones. A connection accepted in the batch already has its (new) number, but it is registered
 * with the loop only after the batch ({@link #acceptAfterIoBatch}): an event for its number that
 * belongs to a closed socket then finds no channel, and Netty drops it.
 */
public final class NewSockets {
    private NewSockets() {}

    /** Runs {@code open} (which creates and registers sockets) on {@code loop} after its current I/O batch. */
    public static void afterIoBatch(EventLoop loop, Runnable open) {
        loop.execute(open);
    }

    /**
     * For a listener's own pipeline ({@code ServerBootstrap#handler}): hands each accepted
     * connection on to Netty's acceptor after the batch, so it is registered (with a session's
     * loop, or, for a data listener, this one) once no closed socket's event is pending. Without
     * it a client accepted on the listener's loop could be closed by a FIN meant for a socket that
     * had its number a moment before.
     */
    public static ChannelHandler acceptAfterIoBatch() {
        return ACCEPT_AFTER_IO_BATCH;
    }

    private static final ChannelHandler ACCEPT_AFTER_IO_BATCH = new AcceptAfterIoBatch();

    @ChannelHandler.Sharable
    private static final class AcceptAfterIoBatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object accepted) {
            // Even if the listener closes meanwhile: the connection was accepted, and its handler
            // decides (a data listener's second peer is refused and logged, as before).
            ctx.executor().execute(() -> ctx.fireChannelRead(accepted));
        }
    }
}
