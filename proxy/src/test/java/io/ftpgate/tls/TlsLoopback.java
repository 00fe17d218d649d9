package io.ftpgate.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLEngine;

/**
 * Two TLS server ports on loopback sharing one server {@link SslContext} (like the gateway's client
 * leg: a control port and a data port of one FTP session), and a client that connects with a chosen
 * peer hint. Each accepted connection writes "ok\n" once its handshake is done, so a client that
 * reads it has also read the TLS 1.3 NewSessionTicket sent before it.
 */
final class TlsLoopback implements AutoCloseable {

    /** One server-side handshake: the port it came in on and what the given probe said. */
    record Accepted(int port, boolean resumed, String protocol, String sessionId) {}

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final List<Accepted> accepted = new CopyOnWriteArrayList<>();
    final LinkedBlockingQueue<Throwable> serverErrors = new LinkedBlockingQueue<>();
    final int controlPort;
    final int dataPort;
    private final List<Channel> servers = new CopyOnWriteArrayList<>();

    /** @param resumedProbe after a server handshake: did {@code engine} resume? */
    TlsLoopback(SslContext server, Function<SSLEngine, Boolean> resumedProbe) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler ssl = server.newHandler(ch.alloc());
                        ch.pipeline().addLast(ssl, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e) {
                                    if (e.isSuccess()) {
                                        accepted.add(new Accepted(ch.localAddress().getPort(),
                                                resumedProbe.apply(ssl.engine()), ssl.engine().getSession().getProtocol(),
                                                io.netty.buffer.ByteBufUtil.hexDump(ssl.engine().getSession().getId())));
                                        ctx.writeAndFlush(Unpooled.copiedBuffer("ok\n", StandardCharsets.US_ASCII));
                                    } else {
                                        serverErrors.add(e.cause());
                                    }
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ((ByteBuf) msg).release();
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                });
        Channel control = b.bind("127.0.0.1", 0).sync().channel();
        Channel data = b.bind("127.0.0.1", 0).sync().channel();
        servers.add(control);
        servers.add(data);
        controlPort = ((InetSocketAddress) control.localAddress()).getPort();
        dataPort = ((InetSocketAddress) data.localAddress()).getPort();
    }

    /**
     * Connects to {@code port} with an engine made for the peer hint {@code (hintHost, hintPort)},
     * waits for the handshake, and, if {@code read}, for the server's "ok"; then closes.
     *
     * @return the client's engine after the handshake
     */
    SSLEngine connect(SslContext client, int port, String hintHost, int hintPort, boolean read) throws Exception {
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        SslHandler[] handler = new SslHandler[1];
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        handler[0] = client.newHandler(c.alloc(), hintHost, hintPort);
                        c.pipeline().addLast(handler[0], new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf b = (ByteBuf) msg;
                                lines.add(b.toString(StandardCharsets.US_ASCII));
                                b.release();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                lines.add("(closed)");
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close(); // the handshake future carries the failure
                            }
                        });
                    }
                }).connect("127.0.0.1", port).sync().channel();
        try {
            handler[0].handshakeFuture().sync();
            if (read) {
                String line = lines.poll(5, TimeUnit.SECONDS);
                if (!"ok\n".equals(line)) {
                    throw new AssertionError("server said " + line);
                }
            } else {
                // An "upload": write and close without waiting for anything from the server.
                ch.writeAndFlush(Unpooled.copiedBuffer("data\n", StandardCharsets.US_ASCII)).sync();
            }
            return handler[0].engine();
        } finally {
            ch.close().sync();
        }
    }

    @Override
    public void close() {
        servers.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
