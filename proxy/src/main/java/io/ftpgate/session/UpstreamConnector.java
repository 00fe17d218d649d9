package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.protocol.codec.FtpLineDecoder;
import io.ftpgate.protocol.codec.FtpMessageEncoder;
import io.ftpgate.protocol.codec.FtpReplyDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Opens a session's connection to the FTP server, on the client channel's event loop (one loop per
 * session: no locks), with the reply pipeline in front of the session.
 */
final class UpstreamConnector {
    private UpstreamConnector() {}

    /**
     * @param from the source address to connect from (transparent: the client's), or null for the kernel's choice
     * @param implicitTls implicit FTPS towards the server: the TLS client handler, first in the pipeline; or null
     */
    static ChannelFuture connect(ControlSession session, InetSocketAddress upstream, InetAddress from,
                                 io.netty.handler.ssl.SslHandler implicitTls) {
        Settings.Control c = session.settings().control();
        Bootstrap b = new Bootstrap();
        if (from != null) {
            // preserve-client-address: a source address that is not the gateway's (IP_TRANSPARENT).
            b.option(EpollChannelOption.IP_TRANSPARENT, true).localAddress(new InetSocketAddress(from, 0));
        }
        // Urgent data in line, as on the client leg (see Transport#inlineUrgentData).
        session.services().transport().inlineUrgentData(b);
        return b
                .group(session.loop())
                .channelFactory(session.services().transport().socketChannelFor(upstream.getAddress()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) c.upstreamConnectTimeout().toMillis())
                // TCP_NODELAY is on already: Netty sets it on every socket channel it makes.
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initPipeline(session, ch, implicitTls);
                    }
                })
                .connect(upstream);
    }

    /** The server leg's pipeline: reply framing and decoding in front of the session. */
    static void initPipeline(ControlSession session, Channel ch) {
        initPipeline(session, ch, null);
    }

    /** The same, behind the TLS client handler of implicit FTPS ({@code implicitTls}, or null). */
    static void initPipeline(ControlSession session, Channel ch, io.netty.handler.ssl.SslHandler implicitTls) {
        Settings.Control c = session.settings().control();
        if (implicitTls != null) {
            ch.pipeline().addLast(PipelineNames.TLS, implicitTls);
        }
        ch.pipeline()
                .addLast(PipelineNames.FRAME, new FtpLineDecoder(c.maxLineLength(), false))
                .addLast(PipelineNames.DECODE, new FtpReplyDecoder(c.maxReplyLines()))
                .addLast(PipelineNames.ENCODE, FtpMessageEncoder.INSTANCE)
                .addLast(PipelineNames.SESSION, new ServerLegHandler(session));
        // upstream-proxy-protocol: the header goes first, before implicit TLS.
        UpstreamProxyHeader.install(session, ch);
    }

    /** The server leg: replies to the session. */
    static final class ServerLegHandler extends ChannelInboundHandlerAdapter {
        private final ControlSession session;

        ServerLegHandler(ControlSession session) {
            this.session = session;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            session.serverMessage(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            session.serverClosed();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            session.serverClosed();
            ctx.close();
        }
    }
}
