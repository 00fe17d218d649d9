package io.ftpgate.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.traffic.AbstractTrafficShapingHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Moves bytes between the client's and the server's data connection of one transfer.
 *
 * <p>Each leg is {@linkplain #attach attached} as soon as it exists, so nothing it receives before
 * the other leg is there can be lost (it is held, and reading stops). Once {@linkplain #link both
 * are there}, bytes flow one of two ways:
 * <ul>
 *   <li><b>splice</b> (both legs epoll channels on one event loop, {@code splice} asked for): the
 *       kernel moves them from one socket through a pipe into the other ({@link Splice}); the JVM
 *       never sees them;
 *   <li><b>copy</b>: through ByteBufs, with back-pressure: when one side's outbound buffer passes
 *       its high water mark the other side stops reading until it drains.
 * </ul>
 * Stream mode (RFC 959 §3.4.1) ends a file by closing the connection, so when one leg closes,
 * everything it sent is flushed to the other leg before that one is closed too; a leg that ends
 * with a reset is passed on as a reset. The relay is {@linkplain Events#finished finished} when
 * both legs have been linked and are closed; a transfer whose second leg never comes is ended by
 * its owner (deadline, cancel), not here.
 */
public final class DataRelay {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DataRelay.class);
    /** Reads of a copied leg grow to 1 MiB (Netty's default stops at 64 KiB): fewer system calls per byte. */
    private static final AdaptiveRecvByteBufAllocator COPY_READS =
            new AdaptiveRecvByteBufAllocator(4 * 1024, 64 * 1024, 1024 * 1024);

    /** How long closing a TLS server leg waits for the server's close_notify after sending ours. */
    static final Duration SERVER_CLOSE_NOTIFY_WAIT = Duration.ofSeconds(3);

    /** Called on the event loop. */
    public interface Events {
        /** Both legs are closed; byte counts are what was relayed in each direction. */
        void finished(long uploaded, long downloaded);
    }

    private final Events events;
    private final Duration idleTimeout;
    private final boolean splice;
    private End client;
    private End server;
    private int open;
    private boolean finished;
    private boolean idle;

    /** A copying relay. */
    public DataRelay(Duration idleTimeout, Events events) {
        this(idleTimeout, false, events);
    }

    /** @param splice splice the legs where both are epoll channels, copy otherwise */
    public DataRelay(Duration idleTimeout, boolean splice, Events events) {
        this.idleTimeout = idleTimeout;
        this.splice = splice;
        this.events = events;
    }

    /** Takes over the client's data connection (auto-read must be off). */
    public void attachClient(Channel ch) {
        client = attach(ch, true);
        maybeLink();
    }

    /** Takes over the server's data connection (auto-read must be off). */
    public void attachServer(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls != null) {
            // An upload ends with the gateway's close_notify. Closing the socket right after it
            // (Netty's default) drops what the server still sends: vsftpd's TLS 1.3 session ticket
            // for this connection may come that late (seen after the client's close_notify), and
            // without it the next data connection cannot resume (vsftpd: 522, session ended); bytes
            // arriving on the closed socket also turn our FIN into a reset (vsftpd with
            // strict_ssl_read_eof: 426 Failure reading network stream). So read on until the
            // server's close_notify or FIN.
            tls.setCloseNotifyReadTimeoutMillis(SERVER_CLOSE_NOTIFY_WAIT.toMillis());
        }
        server = attach(ch, false);
        maybeLink();
    }

    public boolean isLinked() {
        return client != null && server != null;
    }

    /** Whether the legs are spliced (the kernel moves the bytes); false before they are linked. */
    public boolean isSpliced() {
        return client != null && client.splice != null;
    }

    /** Whether the relay was ended because no byte moved for the idle timeout (both legs reset). */
    public boolean wasIdle() {
        return idle;
    }

    /** Whether a leg ended with a reset (or another error) rather than a clean close. */
    public boolean wasReset() {
        return client != null && client.wasReset || server != null && server.wasReset;
    }

    /**
     * Whether a TLS leg's peer closed the connection without sending close_notify first: the bytes
     * may have been cut short by anyone in the path (RFC 8446 §6.1, RFC 4217 §10), so the transfer
     * is treated as reset.
     */
    public boolean wasTruncated() {
        return client != null && client.truncated || server != null && server.truncated;
    }

    /** With {@link #wasTruncated()}: whether it was the client's leg. */
    public boolean truncatedByClient() {
        return client != null && client.truncated;
    }

    /**
     * Bytes relayed from the client to the server. Spliced, it is what the gateway received from
     * the client (the kernel's count); copied, what it wrote on to the server.
     */
    public long uploaded() {
        return client == null ? 0 : client.bytes();
    }

    /** Bytes relayed from the server to the client (see {@link #uploaded()}). */
    public long downloaded() {
        return server == null ? 0 : server.bytes();
    }

    /** Closes both legs now, cleanly (a cancelled or refused transfer); {@link Events#finished} follows. */
    public void close() {
        close(false);
    }

    /**
     * Ends both legs now with a reset (SO_LINGER 0): the transfer was given up while it may have
     * been running (its session ended, it failed). In stream mode a clean close tells the peer the
     * file is complete (RFC 959 §3.4.1), and the kernel would go on sending whatever is in the
     * socket's send buffer (megabytes, seconds on a slow link). {@link Events#finished} follows.
     */
    public void reset() {
        close(true);
    }

    private void close(boolean reset) {
        for (End end : new End[] {client, server}) {
            if (end != null) {
                end.count();
            }
        }
        for (End end : new End[] {client, server}) {
            if (end != null) {
                end.closedHere = true;
                end.releaseHeld();
                if (reset) {
                    resetClose(end.channel);
                } else {
                    end.channel.close();
                }
            }
        }
    }

    private End attach(Channel ch, boolean fromClient) {
        log.debug("attach {} leg {} active={}", fromClient ? "client" : "server", ch, ch.isActive());
        End end = new End(ch, fromClient);
        open++;
        ch.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
        ch.pipeline().addLast(end);
        ch.closeFuture().addListener(f -> legClosed(end));
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
        boolean spliced = splice && client.channel.isActive() && server.channel.isActive()
                && client.channel instanceof AbstractEpollStreamChannel
                && server.channel instanceof AbstractEpollStreamChannel
                && client.channel.eventLoop() == server.channel.eventLoop()
                && Splice.pipesOwnable();
        if (spliced) {
            client.splice = new Splice(client.channel, server.channel);
            server.splice = new Splice(server.channel, client.channel);
            client.lastProgress = server.lastProgress = splicedProgress();
        }
        client.start();
        server.start();
        if (open == 0 && !finished) {
            finished = true;
            events.finished(uploaded(), downloaded());
        }
    }

    private void legClosed(End end) {
        // A spliced leg that closes must stop the other leg splicing into it at once (Splice#fence),
        // and its closed pipe must not be used again (see Splice, "the pipe's life").
        if (end.peer != null && end.peer.splice != null) {
            end.peer.splice.fence();
            Splice.forgetPipe(end.channel);
        }
        // A leg that closes before the other exists keeps what it sent for that other leg.
        if (--open == 0 && !finished && isLinked()) {
            finished = true;
            if (end.splice != null) {
                closeLatePipes();
            }
            events.finished(uploaded(), downloaded());
        }
    }

    /** Both spliced legs are closed: no pipe outlives them (see Splice, "the pipe's life"). */
    private void closeLatePipes() {
        for (End end : new End[] {client, server}) {
            if (Splice.closePipe(end.channel)) {
                log.debug("{} leg: closed a pipe Netty made after the leg closed", end.name());
            }
        }
    }

    /** The kernel's count of bytes moved on both spliced legs: activity the pipeline cannot see. */
    private long splicedProgress() {
        return client.splice.progress() + server.splice.progress();
    }

    /** Netty's traffic shaper marks a channel whose reading it suspended (its own reopen task resumes it). */
    private static final AttributeKey<Boolean> SHAPER_SUSPENDED =
            AttributeKey.valueOf(AbstractTrafficShapingHandler.class.getName() + ".READ_SUSPENDED");

    /**
     * Reading follows the peer's writability (back-pressure), except that it is never turned on
     * while a traffic shaper holds the channel: that would let it read past its bandwidth limit.
     */
    private static void resumeReading(Channel ch, boolean peerWritable) {
        if (!peerWritable) {
            ch.config().setAutoRead(false);
        } else if (!Boolean.TRUE.equals(ch.attr(SHAPER_SUSPENDED).get())) {
            ch.config().setAutoRead(true);
        }
    }

    /**
     * Closes {@code ch} with a reset. Stream mode ends a file by closing (RFC 959 §3.4.1), so a
     * clean close after the other leg was reset would tell this peer a truncated file is complete.
     * A TLS leg gets no close_notify either: that too would say "complete".
     */
    public static void resetClose(Channel ch) {
        if (ch.isOpen()) {
            if (ch.pipeline().get(SslHandler.class) != null) {
                try {
                    ch.pipeline().remove(SslHandler.class);
                } catch (java.util.NoSuchElementException gone) {
                    // removed meanwhile
                }
            }
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
        }
    }

    private final class End extends ChannelDuplexHandler {
        final Channel channel;
        final boolean fromClient;
        final ArrayDeque<Object> held = new ArrayDeque<>();
        End peer;
        /** Set when the legs are spliced. */
        Splice splice;
        /** Bytes written on to the peer through the pipeline (held bytes, copy mode). */
        long copied;
        boolean inputDone;
        boolean wasReset;
        /** The leg's TLS, or null when it is plain. */
        final SslHandler tls;
        /** The gateway closed this leg (not its peer). */
        boolean closedHere;
        /** A TLS leg whose peer closed without close_notify. */
        boolean truncated;
        /** {@link #splicedProgress()} at this leg's last idle event. */
        long lastProgress = -1;

        End(Channel channel, boolean fromClient) {
            this.channel = channel;
            this.fromClient = fromClient;
            this.tls = channel.pipeline().get(SslHandler.class);
        }

        long bytes() {
            return splice == null ? copied : Math.max(copied, splice.received());
        }

        /** Takes the kernel's count of a spliced leg while its socket is still open. */
        void count() {
            if (splice != null) {
                splice.count();
            }
        }

        void start() {
            Object m;
            while ((m = held.poll()) != null) {
                forward(m);
            }
            peer.channel.flush();
            if (wasReset) {
                peer.resetHere();
            } else if (inputDone) {
                peer.closeAfterFlush();
            } else if (splice != null) {
                splice.start(this::spliceFailed);
            } else {
                if (channel.pipeline().get(AbstractTrafficShapingHandler.class) == null) {
                    // A shaped leg keeps Netty's reads of at most 64 KiB: one read is one shaping step.
                    channel.config().setRecvByteBufAllocator(COPY_READS);
                }
                resumeReading(channel, peer.channel.isWritable());
            }
        }

        private void forward(Object msg) {
            if (msg instanceof ByteBuf buf) {
                copied += buf.readableBytes();
            }
            peer.channel.write(msg).addListener(peer.writeFailed);
        }

        /** A write to this leg failed: its peer went away with a reset (a later close says no more). */
        final ChannelFutureListener writeFailed = f -> {
            if (!f.isSuccess() && !(f.cause() instanceof ClosedChannelException)) {
                log.debug("{} leg: write failed: {}", name(), f.cause().toString());
                wasReset = true;
            }
        };

        String name() {
            return fromClient ? "client" : "server";
        }

        /** Closes this leg with a reset (see {@link DataRelay#resetClose}). */
        void resetHere() {
            closedHere = true;
            resetClose(channel);
        }

        /** Flushes what was written to this leg, spliced chunks included, then closes it. */
        void closeAfterFlush() {
            closedHere = true;
            if (channel.isActive()) {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    count();
                    channel.close();
                });
            } else {
                channel.close();
            }
        }

        /** Reading or writing a spliced leg failed (a reset, mostly): both legs end with a reset. */
        private void spliceFailed(Throwable cause) {
            log.debug("{} splice failed: {}", name(), cause.toString());
            count();
            peer.count();
            wasReset = true;
            // Not from inside the channel's read loop, which is where this is called from.
            channel.eventLoop().execute(this::resetHere);
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
                if (!peer.channel.isWritable()) {
                    // Traffic shaping may have turned reading back on while the peer was full
                    // (its reopen task knows nothing of this relay): back-pressure holds anyway.
                    ctx.channel().config().setAutoRead(false);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (splice != null && !splice.drained()) {
                // A read event of a spliced leg: keep the kernel's count current, so that it is
                // right however the leg ends (Netty can close it without telling this handler first).
                // Once the tail was drained (in this same read, mostly) the count is final already.
                splice.count();
            }
            if (peer != null) {
                peer.channel.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // Spliced legs are held back by the pipe between them (see Splice), not by water marks.
            if (peer != null && peer.splice == null && peer.channel.isOpen()) {
                resumeReading(peer.channel, ctx.channel().isWritable());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            log.debug("{} leg closed {} (held {}, linked {}, reset {}, spliced {})", fromClient ? "client" : "server", channel,
                    held.size(), peer != null, wasReset, splice != null);
            inputDone = true;
            if (tls != null && !closedHere && !wasReset && !tls.sslCloseFuture().isSuccess()) {
                // The peer's FIN came without its close_notify.
                log.debug("{} leg: TLS ended without close_notify (truncated)", name());
                truncated = true;
                wasReset = true;
            }
            if (peer != null && wasReset) {
                peer.releaseHeld();
                peer.resetHere();
            } else if (peer != null) {
                peer.closeAfterFlush();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                // Spliced bytes pass no handler, so the idle handler sees none: ask the kernel.
                long progress = splice == null ? -1 : splicedProgress();
                if (splice == null || progress == lastProgress) {
                    // Given up, not finished: both peers see a reset (a clean end would say "complete").
                    log.debug("{} leg idle for {}: resetting both legs", name(), idleTimeout);
                    idle = true;
                    DataRelay.this.reset();
                }
                lastProgress = progress;
            } else if (evt instanceof SslCloseCompletionEvent close && close.isSuccess()) {
                // The peer's close_notify: its data is complete. Answer it and close (some TLS 1.3
                // peers, vsftpd among them, wait for ours before they send their FIN).
                closedHere = true;
                channel.close();
            } else if (evt == ChannelInputShutdownEvent.INSTANCE && splice != null && !wasReset && peer.channel.isOpen()) {
                // The peer closed its side. Read the rest now: Netty may close the channel right
                // after this event (when its input was already shut down by a reset, say).
                try {
                    long tail = splice.drainTail(peer.channel);
                    log.debug("{} leg: end of stream, {} bytes read after it", name(), tail);
                    copied += tail;
                } catch (IOException e) {
                    spliceFailed(e);
                    return;
                }
                peer.channel.flush();
                // Not from inside the channel's read loop, which is where this event comes from.
                channel.eventLoop().execute(channel::close);
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        /**
         * Netty's splice turns reading back on for the source leg when one of its chunks has been
         * written out, which can be after that leg's input ended or the leg was closed. By then
         * Netty 4.2.18 may have removed the descriptor from epoll (its interest set went empty)
         * while still believing it registered, so asking for reads fails (epoll_ctl ENOENT, seen
         * as an error on the leg); a closed descriptor's number may even be another socket's. A leg
         * whose input ended has nothing left to read: it reads no more.
         */
        @Override
        public void read(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            if (ch.isOpen() && !(ch instanceof DuplexChannel d && d.isInputShutdown())) {
                ctx.read();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A reset from one peer ends the transfer, and is passed on as a reset (see resetClose);
            // the session reports the outcome.
            log.debug("{} leg failed: {}", name(), cause.toString());
            count();
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
