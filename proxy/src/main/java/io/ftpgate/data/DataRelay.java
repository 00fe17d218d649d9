package io.ftpgate.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Copies bytes between the client's and the server's data connection of one transfer.
 *
 * <p>Each leg is {@linkplain #attach attached} as soon as it exists, so nothing it receives before
 * the other leg is there can be lost (it is held, and reading stops). Once {@linkplain #link both
 * are there}, bytes flow with back-pressure: when one side's outbound buffer passes its high
 * water mark the other side stops reading until it drains. Stream mode (RFC 959 §3.4.1) ends a
 * file by closing the connection, so when one leg closes, everything it sent is flushed to the
 * other leg before that one is closed too. The relay is {@linkplain Events#finished finished}
 * when both legs have been linked and are closed; a transfer whose second leg never comes is
 * ended by its owner (deadline, cancel), not here.
 */
public final class DataRelay {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DataRelay.class);

    /** Called on the event loop. */
    public interface Events {
        /** Both legs are closed; byte counts are what was written onward. */
        void finished(long uploaded, long downloaded);
    }

    private final Events events;
    private final Duration idleTimeout;
    private End client;
    private End server;
    private int open;
    private boolean finished;
    private long uploaded;
    private long downloaded;

    public DataRelay(Duration idleTimeout, Events events) {
        this.idleTimeout = idleTimeout;
        this.events = events;
    }

    /** Takes over the client's data connection (auto-read must be off). */
    public void attachClient(Channel ch) {
        client = attach(ch, true);
        maybeLink();
    }

    /** Takes over the server's data connection (auto-read must be off). */
    public void attachServer(Channel ch) {
        server = attach(ch, false);
        maybeLink();
    }

    public boolean isLinked() {
        return client != null && server != null;
    }

    /** Whether a leg ended with a reset (or another error) rather than a clean close. */
    public boolean wasReset() {
        return client != null && client.wasReset || server != null && server.wasReset;
    }

    public long uploaded() {
        return uploaded;
    }

    public long downloaded() {
        return downloaded;
    }

    /** Closes both legs now (abort, session end); {@link Events#finished} follows. */
    public void close() {
        if (client != null) {
            client.releaseHeld();
            client.channel.close();
        }
        if (server != null) {
            server.releaseHeld();
            server.channel.close();
        }
    }

    private End attach(Channel ch, boolean fromClient) {
        log.debug("attach {} leg {} active={}", fromClient ? "client" : "server", ch, ch.isActive());
        End end = new End(ch, fromClient);
        open++;
        ch.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
        ch.pipeline().addLast(end);
        ch.closeFuture().addListener(f -> legClosed());
        if (!ch.isActive()) {
            end.inputDone = true;
        }
        // Read whatever is already there into the hold queue; further reads wait for the link.
        ch.read();
        return end;
    }

    private void maybeLink() {
        if (!isLinked()) {
            return;
        }
        client.peer = server;
        server.peer = client;
        client.start();
        server.start();
        if (open == 0 && !finished) {
            finished = true;
            events.finished(uploaded, downloaded);
        }
    }

    private void legClosed() {
        // A leg that closes before the other exists keeps what it sent for that other leg.
        if (--open == 0 && !finished && isLinked()) {
            finished = true;
            events.finished(uploaded, downloaded);
        }
    }

    /**
     * Closes {@code ch} with a reset. Stream mode ends a file by closing (RFC 959 §3.4.1), so a
     * clean close after the other leg was reset would tell this peer a truncated file is complete.
     */
    private static void resetClose(Channel ch) {
        if (ch.isOpen()) {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
        }
    }

    private static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    private final class End extends ChannelInboundHandlerAdapter {
        final Channel channel;
        final boolean fromClient;
        final ArrayDeque<Object> held = new ArrayDeque<>();
        End peer;
        boolean inputDone;
        boolean wasReset;

        End(Channel channel, boolean fromClient) {
            this.channel = channel;
            this.fromClient = fromClient;
        }

        void start() {
            Object m;
            while ((m = held.poll()) != null) {
                forward(m);
            }
            peer.channel.flush();
            if (wasReset) {
                resetClose(peer.channel);
            } else if (inputDone) {
                closeAfterFlush(peer.channel);
            } else {
                channel.config().setAutoRead(peer.channel.isWritable());
            }
        }

        private void forward(Object msg) {
            if (msg instanceof ByteBuf buf) {
                if (fromClient) {
                    uploaded += buf.readableBytes();
                } else {
                    downloaded += buf.readableBytes();
                }
            }
            peer.channel.write(msg);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (peer == null) {
                held.add(msg);
                ctx.channel().config().setAutoRead(false);
            } else if (!peer.channel.isOpen()) {
                ReferenceCountUtil.release(msg);
            } else {
                forward(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (peer != null) {
                peer.channel.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (peer != null && peer.channel.isOpen()) {
                peer.channel.config().setAutoRead(ctx.channel().isWritable());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            log.debug("{} leg closed {} (held {}, linked {})", fromClient ? "client" : "server", channel, held.size(), peer != null);
            inputDone = true;
            if (peer != null && wasReset) {
                peer.releaseHeld();
                resetClose(peer.channel);
            } else if (peer != null) {
                closeAfterFlush(peer.channel);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A reset from one peer ends the transfer, and is passed on as a reset (see resetClose);
            // the session reports the outcome.
            wasReset = true;
            ctx.close();
        }

        /** Not in handlerRemoved: a closed leg's pipeline is torn down before its data is passed on. */
        void releaseHeld() {
            held.forEach(ReferenceCountUtil::release);
            held.clear();
        }
    }
}
