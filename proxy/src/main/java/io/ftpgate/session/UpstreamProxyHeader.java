package io.ftpgate.session;

import io.ftpgate.config.UpstreamProxyProtocol;
import io.ftpgate.policy.Addresses;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the server leg's control connection with a PROXY protocol header (encoded by Netty's
 * {@link HAProxyMessageEncoder}) that names the session's client and the gateway address that
 * client reached, so that the server logs and limits by the client and not by the gateway.
 *
 * <p>It sits first in the server leg's pipeline, in front of implicit TLS: it writes the header when
 * the connection becomes active, before it passes {@code channelActive} on (which is when the TLS
 * handler starts its handshake), so the header precedes the ClientHello on the wire as the
 * specification requires. Then it takes itself and the encoder out of the pipeline: explicit TLS
 * (AUTH TLS) and everything after it never meet them. Data connections get no header.
 */
final class UpstreamProxyHeader extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");

    private final long session;
    private final HAProxyMessage header;
    private boolean sent;

    private UpstreamProxyHeader(long session, HAProxyMessage header) {
        this.session = session;
        this.header = header;
    }

    /** Puts the encoder and the header first in {@code session}'s server-leg pipeline, if it sends one. */
    static void install(ControlSession session, io.netty.channel.Channel ch) {
        UpstreamProxyProtocol version = session.upstreamProxyProtocol();
        if (version == UpstreamProxyProtocol.OFF) {
            return;
        }
        HAProxyMessage header = message(version, session.clientRemote(), session.clientReached());
        // The encoder first: on a channel that is already active the handler sends when added.
        ch.pipeline()
                .addFirst(PipelineNames.PROXY_SEND_ENCODE, HAProxyMessageEncoder.INSTANCE)
                .addAfter(PipelineNames.PROXY_SEND_ENCODE, PipelineNames.PROXY_SEND,
                        new UpstreamProxyHeader(session.id(), header));
    }

    /**
     * The header: TCP4 when both addresses are IPv4 (IPv4-mapped ones count as IPv4), else TCP6
     * with an IPv4 address written IPv4-mapped (the specification's two families must agree).
     */
    static HAProxyMessage message(UpstreamProxyProtocol version, InetSocketAddress client, InetSocketAddress reached) {
        InetAddress source = Addresses.unmap(client.getAddress());
        InetAddress destination = Addresses.unmap(reached.getAddress());
        boolean v4 = source instanceof Inet4Address && destination instanceof Inet4Address;
        return new HAProxyMessage(
                version == UpstreamProxyProtocol.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                literal(source, v4), literal(destination, v4), client.getPort(), reached.getPort());
    }

    private static String literal(InetAddress a, boolean v4) {
        if (v4 || !(a instanceof Inet4Address)) {
            return NetUtil.toAddressString(a);
        }
        return "::ffff:" + a.getHostAddress();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            send(ctx); // added to a connected channel (tests' embedded server legs)
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        send(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (!sent) {
            header.release();
        }
    }

    private void send(ChannelHandlerContext ctx) {
        if (sent) {
            return;
        }
        sent = true;
        log.debug("session {}: PROXY {} header to the server: client {}, gateway {}", session, header.protocolVersion(),
                header.sourceAddress(), header.destinationAddress());
        // Through the encoder just before this handler, ahead of any TLS record or FTP byte.
        ctx.writeAndFlush(header).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        ctx.pipeline().remove(PipelineNames.PROXY_SEND_ENCODE);
        ctx.pipeline().remove(this);
    }
}
