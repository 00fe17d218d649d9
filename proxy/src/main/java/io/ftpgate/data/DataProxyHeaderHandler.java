package io.ftpgate.data;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reads the PROXY protocol header of one data connection accepted from the load balancer, then
 * hands the connection over with the peer the header names; what came after the header in the
 * same segment is kept and passed on once the new owner's pipeline (the relay, or TLS first) is
 * in place, so an upload's first bytes or a TLS ClientHello are never lost.
 *
 * <p>Until then, a close, a malformed header or the header timeout ends the connection here,
 * nothing sent. Sits after Netty's {@link HAProxyMessageDecoder}, which removes itself after the
 * header; this handler removes itself at the hand-over.
 */
final class DataProxyHeaderHandler extends ChannelInboundHandlerAdapter {
    static final String DECODER = "proxy-decode";

    /** What the header said; called on the event loop, at most once per connection. */
    interface Outcome {
        /**
         * The header names {@code source} (null for LOCAL and UNKNOWN headers, which name nobody);
         * the receiver either closes {@code ch} or calls {@link #handOver} in a later task.
         */
        void header(DataProxyHeaderHandler handler, Channel ch, InetSocketAddress source);

        /** The connection ended before a usable header: closed, nothing sent. */
        void failed(Channel ch, ProxyHeaderOutcome outcome, String why);
    }

    private final Duration timeout;
    private final Outcome outcome;
    private final List<Object> early = new ArrayList<>();
    private ScheduledFuture<?> deadline;
    private boolean decided;

    private DataProxyHeaderHandler(Duration timeout, Outcome outcome) {
        this.timeout = timeout;
        this.outcome = outcome;
    }

    /** Puts the decoder and this handler first in {@code ch}'s pipeline (before it is active). */
    static void install(Channel ch, Duration timeout, Outcome outcome) {
        // TLVs are not used: at most 4 KiB of them, and fail at once on a bad header.
        ch.pipeline().addFirst(DECODER, new HAProxyMessageDecoder(4096, true));
        ch.pipeline().addAfter(DECODER, null, new DataProxyHeaderHandler(timeout, outcome));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> {
            if (!decided && ctx.channel().isOpen()) {
                fail(ctx, ProxyHeaderOutcome.TIMEOUT, "no complete PROXY header within " + timeout.toMillis() + " ms");
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        // Auto-read is off: one read now, the decoder asks for more while the header is incomplete.
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided || !(msg instanceof HAProxyMessage header)) {
            // Bytes after the header, passed on by the decoder as it leaves: kept for the new owner.
            early.add(msg);
            return;
        }
        InetSocketAddress source;
        try {
            source = ProxyHeaderSource.of(header);
        } finally {
            ReferenceCountUtil.release(header);
        }
        decided = true;
        deadline.cancel(false);
        outcome.header(this, ctx.channel(), source);
    }

    /**
     * Gives the connection to its new owner: removes the header stages, lets {@code owner} build
     * the rest of the pipeline, then feeds what arrived after the header through it from the head.
     * Called after the read that carried the header has been processed (the decoder is gone).
     */
    void handOver(Channel ch, Runnable owner) {
        ChannelPipeline p = ch.pipeline();
        if (p.get(DECODER) != null) {
            p.remove(DECODER); // passes what it still holds to this handler
        }
        if (p.context(this) != null) {
            p.remove(this);
        }
        owner.run();
        if (!early.isEmpty()) {
            early.forEach(p::fireChannelRead);
            early.clear();
            p.fireChannelReadComplete();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Nobody downstream yet.
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (decided) {
            ctx.close();
            return;
        }
        fail(ctx, ProxyHeaderOutcome.INVALID, "no valid PROXY header: " + cause.getMessage());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Before the hand-over nobody downstream needs it; the new owner sees the closed channel.
        if (!decided && deadline != null) {
            deadline.cancel(false);
            decided = true;
            outcome.failed(ctx.channel(), ProxyHeaderOutcome.INVALID, "closed before a complete PROXY header");
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        if (!ctx.channel().isOpen()) {
            early.forEach(ReferenceCountUtil::release);
            early.clear();
        }
    }

    private void fail(ChannelHandlerContext ctx, ProxyHeaderOutcome result, String why) {
        decided = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        ctx.close();
        outcome.failed(ctx.channel(), result, why);
    }
}
