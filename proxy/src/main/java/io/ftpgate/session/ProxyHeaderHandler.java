package io.ftpgate.session;

import io.ftpgate.data.ProxyHeaderOutcome;
import io.ftpgate.data.ProxyHeaderSource;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.policy.Addresses;
import io.ftpgate.protocol.FtpReply;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a control connection back until its PROXY protocol header (decoded by Netty's
 * {@code HAProxyMessageDecoder} just before this handler) has arrived: the rest of the pipeline
 * sees {@code channelActive} only then, so the session starts, chooses its upstream and logs with
 * the client's real address, and the greeting is never sent before the header. The channel has
 * auto-read off; this handler asks for the first read, the decoder for more while the header is
 * incomplete (a header split over segments is fine).
 *
 * <p>Until the header has arrived, a close, a decoding error or the header timeout ends the
 * connection here, without a byte sent and without a session being counted. A header naming a
 * client of the other address family than the proxy's connection gets 421: that client could reach
 * none of the data ports, which listen on the address the connection reached.
 */
final class ProxyHeaderHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");

    private final ControlSession session;
    private final String listener;
    private final Duration timeout;
    private final GatewayMetrics metrics;
    private ScheduledFuture<?> deadline;
    private boolean identified;

    ProxyHeaderHandler(ControlSession session, String listener, Duration timeout, GatewayMetrics metrics) {
        this.session = session;
        this.listener = listener;
        this.timeout = timeout;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> {
            if (!identified && ctx.channel().isActive()) {
                refused(ctx, ProxyHeaderOutcome.TIMEOUT, "no complete PROXY header within " + timeout.toMillis() + " ms");
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (identified || !(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg);
            return;
        }
        InetSocketAddress proxy = (InetSocketAddress) ctx.channel().remoteAddress();
        InetSocketAddress client;
        try {
            client = ProxyHeaderSource.of(header);
            log.debug("session {} [{}]: PROXY {} {} from {}: client {}", session.id(), listener, header.protocolVersion(),
                    header.command(), ControlSession.text(proxy), client == null ? "-" : ControlSession.text(client));
        } finally {
            ReferenceCountUtil.release(header);
        }
        if (client != null && (client.getAddress() instanceof Inet4Address)
                != (Addresses.unmap(proxy.getAddress()) instanceof Inet4Address)) {
            // Data connections are accepted from the client's address on the address it reached;
            // a client of the other family can reach none of this gateway's data ports.
            identified = true;
            deadline.cancel(false);
            metrics.proxyHeader(ProxyHeaderOutcome.INVALID);
            log.warn("[{}] {}: PROXY header names {} client {}, the connection is {}: refused", listener,
                    ControlSession.text(proxy), family(client), ControlSession.text(client), family(proxy));
            ctx.channel().writeAndFlush(FtpReply.of(421, "Service not available: the load balancer must reach the gateway over "
                    + family(client) + " for " + family(client) + " clients")).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        identified = true;
        deadline.cancel(false);
        metrics.proxyHeader(client == null ? ProxyHeaderOutcome.LOCAL : ProxyHeaderOutcome.PROXIED);
        if (client != null) {
            session.clientIdentified(client);
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }

    private static String family(InetSocketAddress a) {
        return Addresses.unmap(a.getAddress()) instanceof Inet4Address ? "IPv4" : "IPv6";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (identified) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        refused(ctx, ProxyHeaderOutcome.INVALID, "no valid PROXY header: " + cause.getMessage());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (identified) {
            ctx.fireChannelInactive();
            return;
        }
        // The session never started: nothing to end downstream.
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    private void refused(ChannelHandlerContext ctx, ProxyHeaderOutcome outcome, String why) {
        if (identified) {
            return;
        }
        identified = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        metrics.proxyHeader(outcome);
        log.warn("[{}] {}: {}; closed", listener, ControlSession.text(ctx.channel().remoteAddress()), why);
        ctx.close();
    }
}
