package io.ftpgate.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;

/**
 * A minimal explicit-FTPS client on Netty, built the way the gateway's server leg is meant to work
 * (ftps.md §2.5): one client {@link SslContext} per FTP session; the control handler and every data
 * handler are made with the same peer hint (server name, control port); a data connection's
 * handshake starts only after the server's 1xx reply. Blocking calls, for tests only.
 */
final class FtpsTestClient implements AutoCloseable {

    /** A final reply: its code and its last line. */
    record Reply(int code, String text) {}

    /** One transfer: the final reply, the bytes received, and whether its TLS session was resumed. */
    record Transfer(Reply preliminary, Reply end, byte[] data, boolean resumed, String protocol) {}

    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");

    private final EventLoopGroup group;
    private final SslContext tls;
    private final ResumptionObserver observer;
    private final String serverName;
    private final int controlPort;
    private final Channel control;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

    FtpsTestClient(EventLoopGroup group, SslContext tls, ResumptionObserver observer, String serverName, String host, int port)
            throws InterruptedException {
        this.group = group;
        this.tls = tls;
        this.observer = observer;
        this.serverName = serverName;
        this.controlPort = port;
        this.control = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("lines", new LineBasedFrameDecoder(8192))
                                .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                .addLast(new SimpleChannelInboundHandler<String>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                        lines.add(line);
                                    }
                                });
                    }
                }).connect(host, port).sync().channel();
    }

    Reply reply() throws InterruptedException {
        while (true) {
            String line = lines.poll(10, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("no reply within 10 s (control open: " + control.isActive() + ")");
            }
            if (line.length() >= 4 && Character.isDigit(line.charAt(0)) && line.charAt(3) == ' ') {
                return new Reply(Integer.parseInt(line.substring(0, 3)), line);
            }
        }
    }

    Reply command(String line) throws InterruptedException {
        control.writeAndFlush(control.alloc().buffer().writeBytes((line + "\r\n").getBytes(StandardCharsets.UTF_8)));
        return reply();
    }

    /** AUTH TLS, then the handshake on the control connection; returns the control engine. */
    SSLEngine authTls() throws Exception {
        Reply r = command("AUTH TLS");
        if (r.code() != 234) {
            throw new AssertionError("AUTH TLS: " + r);
        }
        SslHandler ssl = tls.newHandler(control.alloc(), serverName, controlPort);
        control.pipeline().addBefore("lines", "tls", ssl);
        ssl.handshakeFuture().sync();
        return ssl.engine();
    }

    /**
     * PASV, connect, send {@code command}; on a 1xx start TLS on the data connection with the
     * control connection's peer hint, read until the server closes, then the final reply.
     *
     * @param hintPort the port to label the data engine with (the control port to resume)
     */
    Transfer transfer(String command, int hintPort) throws Exception {
        Reply pasv = command("PASV");
        Matcher m = PASV.matcher(pasv.text());
        if (pasv.code() != 227 || !m.find()) {
            throw new AssertionError("PASV: " + pasv);
        }
        String host = m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4);
        int port = Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6));
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        data.writeBytes(ByteBufUtil.getBytes(b));
                        b.release();
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        closed.complete(null);
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        // The server's close_notify: answer with ours and close. The JDK engine does
                        // not answer by itself under TLS 1.3 (half-close), and vsftpd waits for it.
                        if (evt instanceof SslCloseCompletionEvent) {
                            ctx.close();
                        }
                        ctx.fireUserEventTriggered(evt);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                }).connect(host, port).sync().channel();
        Reply preliminary = command(command);
        if (preliminary.code() / 100 != 1) {
            ch.close().sync();
            return new Transfer(preliminary, preliminary, new byte[0], false, "");
        }
        SslHandler ssl = tls.newHandler(ch.alloc(), serverName, hintPort);
        ch.pipeline().addFirst("tls", ssl);
        boolean handshook = ssl.handshakeFuture().await(10, TimeUnit.SECONDS) && ssl.handshakeFuture().isSuccess();
        closed.get(10, TimeUnit.SECONDS);
        Reply end = reply();
        boolean resumed = handshook && observer.resumed(ssl.engine());
        return new Transfer(preliminary, end, data.toByteArray(), resumed,
                handshook ? ssl.engine().getSession().getProtocol() : "handshake failed: " + ssl.handshakeFuture().cause());
    }

    @Override
    public void close() {
        control.close().syncUninterruptibly();
    }
}
