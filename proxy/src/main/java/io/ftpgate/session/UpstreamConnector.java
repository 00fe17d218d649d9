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
import java.net.InetSocketAddress;

/**
 * Opens a session's connection to the FTP server, on the client channel's event loop (one loop per
 * session: no locks), with the reply pipeline in front of the session.
 */
final class UpstreamConnector {
    private UpstreamConnector() {}

    static ChannelFuture connect(ControlSession session, InetSocketAddress upstream) {
        Settings.Control c = session.settings().control();
        return new Bootstrap()
                .group(session.loop())
                .channel(session.services().transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) c.upstreamConnectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(
                                new FtpLineDecoder(c.maxLineLength(), false),
                                new FtpReplyDecoder(c.maxReplyLines()),
                                FtpMessageEncoder.INSTANCE,
                                new ServerLegHandler(session));
                    }
                })
                .connect(upstream);
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
