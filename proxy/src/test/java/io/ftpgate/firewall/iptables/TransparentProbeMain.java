package io.ftpgate.firewall.iptables;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;

/**
 * TCP peers for {@link IptablesInterceptionIT}, run with {@code ip netns exec NS java -cp ...}.
 * The transparent ones use Netty's epoll transport: JDK 17 has no {@code IP_TRANSPARENT}.
 *
 * <pre>
 * listen-transparent IP PORT               IP_TRANSPARENT listener (IP may be foreign); prints "listening",
 *                                          then "accepted local=A:P remote=A:P" per connection
 * connect-transparent FROM HOST PORT MS    IP_TRANSPARENT connect from a (foreign) FROM address;
 *                                          prints "connected local=... remote=...", exit 0, else 1
 * listen IP PORT                           plain listener, prints like listen-transparent
 * connect FROM HOST PORT MS                plain connect from FROM, exit 0 if the handshake completes
 * </pre>
 */
public final class TransparentProbeMain {

    private TransparentProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "listen-transparent" -> listenTransparent(args[1], Integer.parseInt(args[2]));
            case "connect-transparent" -> System.exit(connectTransparent(args[1], args[2],
                    Integer.parseInt(args[3]), Integer.parseInt(args[4])));
            case "listen" -> listen(args[1], Integer.parseInt(args[2]));
            case "connect" -> System.exit(connect(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4])));
            default -> throw new IllegalArgumentException("see the class comment for usage");
        }
    }

    private static void listenTransparent(String ip, int port) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        report("accepted", ch.localAddress(), ch.remoteAddress());
                        ch.close();
                    }
                })
                .bind(new InetSocketAddress(ip, port)).sync().channel();
        System.out.println("listening");
        System.out.flush();
        server.closeFuture().sync();
    }

    private static int connectTransparent(String from, String host, int port, int timeoutMillis) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            ChannelFuture connect = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                    .option(EpollChannelOption.IP_TRANSPARENT, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            report("connected", ctx.channel().localAddress(), ctx.channel().remoteAddress());
                        }
                    })
                    .connect(new InetSocketAddress(host, port), new InetSocketAddress(from, 0))
                    .awaitUninterruptibly();
            if (!connect.isSuccess()) {
                System.out.println("failed: " + connect.cause());
                return 1;
            }
            connect.channel().close().awaitUninterruptibly();
            return 0;
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private static void listen(String ip, int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(ip, port));
            System.out.println("listening");
            System.out.flush();
            while (true) {
                try (Socket socket = server.accept()) {
                    report("accepted", socket.getLocalSocketAddress(), socket.getRemoteSocketAddress());
                }
            }
        }
    }

    private static int connect(String from, String host, int port, int timeoutMillis) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), timeoutMillis);
            System.out.println("connected");
            return 0;
        } catch (IOException e) {
            System.out.println("failed: " + e);
            return 1;
        }
    }

    private static void report(String what, SocketAddress local, SocketAddress remote) {
        System.out.println(what + " local=" + text(local) + " remote=" + text(remote));
        System.out.flush();
    }

    private static String text(SocketAddress address) {
        InetSocketAddress inet = (InetSocketAddress) address;
        return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
}
