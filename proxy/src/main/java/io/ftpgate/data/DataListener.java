package io.ftpgate.data;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Predicate;

/**
 * Listens on one port for one data connection. A connection from an unexpected address is closed
 * at once and reported, and the listener keeps waiting; the first expected one is handed over and
 * the listener closes, so the port is open for exactly one connection.
 */
public final class DataListener {

    /** What happens on this listener; called on the event loop. */
    public interface Events {
        void accepted(Channel channel);

        void refused(InetSocketAddress from);

        /**
         * The listening socket failed (an accept error); {@code listening} is false when the
         * listener was already closed (Netty may still report an accept that raced the close).
         */
        void failed(Throwable cause, boolean listening);
    }

    private final Channel serverChannel;
    private boolean done;

    private DataListener(Channel serverChannel, PortAllocator ports) {
        this.serverChannel = serverChannel;
        ports.bound();
        serverChannel.closeFuture().addListener(f -> ports.released());
    }

    /**
     * Binds a port from {@code ports} on {@code local}, trying further ports when one is taken.
     * Accepted channels are registered on {@code loop} with auto-read off.
     */
    public static Future<DataListener> bind(
            EventLoop loop, Transport transport, InetAddress local, boolean transparent, PortAllocator ports,
            Predicate<InetAddress> expected, Events events) {
        Promise<DataListener> promise = loop.newPromise();
        DataListener[] holder = new DataListener[1];
        ServerBootstrap b = new ServerBootstrap();
        if (transparent) {
            // Bind an address that is not the gateway's (the server's, as the client sees it); the
            // firewall's divert lease delivers exactly the expected connection here (TPROXY).
            b.option(EpollChannelOption.IP_TRANSPARENT, true);
        }
        b
                .group(loop)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 8)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(NewSockets.acceptAfterIoBatch())
                .childOption(ChannelOption.AUTO_READ, false)
                // A relayed chunk goes out at once, not after the previous one's ACK (Nagle), which
                // the receiver may delay by up to 40 ms: the end of a listing, a file's last bytes.
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        DataListener self = holder[0];
                        InetSocketAddress from = (InetSocketAddress) ch.remoteAddress();
                        if (self == null || self.done || !expected.test(from.getAddress())) {
                            ch.close();
                            events.refused(from);
                            return;
                        }
                        self.done = true;
                        self.serverChannel.close();
                        events.accepted(ch);
                    }
                });
        // Not inline: a listener registered while the loop handles an I/O batch may be handed a
        // closed socket's event before it is bound, and fail its accept with EINVAL (see NewSockets).
        NewSockets.afterIoBatch(loop, () -> tryBind(b, local, ports, ports.attempts(), promise, holder, events));
        return promise;
    }

    private static void tryBind(ServerBootstrap b, InetAddress local, PortAllocator ports, int left,
                                Promise<DataListener> promise, DataListener[] holder, Events events) {
        int port = ports.next();
        ChannelFuture f = b.bind(new InetSocketAddress(local, port));
        f.addListener(done -> {
            if (done.isSuccess()) {
                holder[0] = new DataListener(f.channel(), ports);
                // Last in the listener's pipeline, after Netty's acceptor: no accept error reaches its tail.
                DataListener self = holder[0];
                f.channel().pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        events.failed(cause, !self.done && ctx.channel().isOpen());
                    }
                });
                promise.setSuccess(holder[0]);
            } else if (left > 1) {
                tryBind(b, local, ports, left - 1, promise, holder, events);
            } else {
                promise.setFailure(done.cause());
            }
        });
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public InetAddress address() {
        return ((InetSocketAddress) serverChannel.localAddress()).getAddress();
    }

    /** Whether the expected peer has connected. */
    public boolean isDone() {
        return done;
    }

    public void close() {
        done = true;
        serverChannel.close();
    }
}
