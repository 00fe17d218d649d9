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
import io.ftpgate.policy.Addresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Listens on one port for one data connection. A connection from an unexpected address is closed
 * at once and reported, and the listener keeps waiting; the first expected one is handed over and
 * the listener closes, so the port is open for exactly one connection.
 *
 * <p>With {@link ProxiedPeers} the connection comes through a load balancer: only that balancer's
 * connections are read, each must start with a PROXY protocol header, and the address the header
 * names (not the balancer's) is the one that must be expected. Until a header has been checked the
 * listener stays open, so a stranger's connection through the balancer cannot take the port.
 */
public final class DataListener {

    /**
     * Data connections that come through a load balancer with the PROXY protocol.
     *
     * @param balancer the only peer whose connections are read (the session's control connection
     *     came from it)
     * @param trusted the configured PROXY peers; only to tell a stranger from another balancer in
     *     the report
     * @param headerTimeout how long the balancer may take to send a complete header
     */
    public record ProxiedPeers(InetAddress balancer, Predicate<InetAddress> trusted, Duration headerTimeout) {}

    /** What happens on this listener; called on the event loop. */
    public interface Events {
        void accepted(Channel channel);

        /**
         * A connection was closed because it came from {@code from}, not from the expected peer;
         * {@code via} is the load balancer whose PROXY header named {@code from}, else null.
         */
        void refused(InetSocketAddress from, InetSocketAddress via);

        /**
         * A connection from {@code peer} that had to start with a PROXY header: what the header led
         * to ({@code PROXIED} when it named a peer, whether expected or not) and a detail.
         */
        void proxyHeader(InetSocketAddress peer, ProxyHeaderOutcome outcome, String detail);

        /**
         * The listening socket failed (an accept error); {@code listening} is false when the
         * listener was already closed (Netty may still report an accept that raced the close).
         */
        void failed(Throwable cause, boolean listening);
    }

    private final Channel serverChannel;
    /** Connections from the balancer whose header has not been checked yet. */
    private final List<Channel> pending = new ArrayList<>();
    private boolean done;

    private DataListener(Channel serverChannel, PortAllocator ports) {
        this.serverChannel = serverChannel;
        ports.bound();
        serverChannel.closeFuture().addListener(f -> ports.released());
    }

    /**
     * Binds a port from {@code ports} on {@code local}, trying further ports when one is taken.
     * Accepted channels are registered on {@code loop} with auto-read off.
     *
     * @param proxied how data connections come through a load balancer, or null when they come
     *     straight from the peer
     */
    public static Future<DataListener> bind(
            EventLoop loop, Transport transport, InetAddress local, boolean transparent, PortAllocator ports,
            Predicate<InetAddress> expected, ProxiedPeers proxied, Events events) {
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
                .channelFactory(transport.serverChannelFor(local))
                .option(ChannelOption.SO_BACKLOG, 8)
                // SO_REUSEADDR is on already: Netty's epoll server channel sets it, as the JDK
                // does for NIO's; an option here would set it a second time for every listener.
                .handler(NewSockets.acceptAfterIoBatch())
                .childOption(ChannelOption.AUTO_READ, false)
                // A relayed chunk must go out at once, not after the previous one's ACK (Nagle), which
                // the receiver may delay by up to 40 ms: the end of a listing, a file's last bytes.
                // Netty turns TCP_NODELAY on for every socket channel it makes (epoll and NIO); an
                // option here would only set it a second time (NoDelayTest checks the sockets).
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        DataListener self = holder[0];
                        InetSocketAddress from = (InetSocketAddress) ch.remoteAddress();
                        if (proxied != null && self != null && !self.done) {
                            self.viaBalancer(ch, from, proxied, expected, events);
                            return;
                        }
                        if (self == null || self.done || !expected.test(from.getAddress())) {
                            ch.close();
                            events.refused(from, null);
                            return;
                        }
                        self.take(ch);
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

    /** The expected connection is here: the port closes, and so does every other pending one. */
    private void take(Channel ch) {
        done = true;
        serverChannel.close();
        pending.remove(ch);
        closePending();
    }

    private void closePending() {
        List<Channel> others = new ArrayList<>(pending);
        pending.clear();
        others.forEach(Channel::close);
    }

    /**
     * A connection to a listener whose data connections come through a load balancer: anyone but
     * the session's balancer is closed at once, nothing read; the balancer's connection is handed
     * over if its header names the expected peer.
     */
    private void viaBalancer(Channel ch, InetSocketAddress from, ProxiedPeers proxied, Predicate<InetAddress> expected,
                             Events events) {
        InetAddress peer = Addresses.unmap(from.getAddress());
        if (!Addresses.same(peer, proxied.balancer())) {
            ch.close();
            if (proxied.trusted().test(peer)) {
                events.refused(from, null);
            } else {
                events.proxyHeader(from, ProxyHeaderOutcome.UNTRUSTED, "not a trusted PROXY protocol peer");
            }
            return;
        }
        pending.add(ch);
        ch.closeFuture().addListener(f -> pending.remove(ch));
        DataProxyHeaderHandler.install(ch, proxied.headerTimeout(), new DataProxyHeaderHandler.Outcome() {
            @Override
            public void header(DataProxyHeaderHandler handler, Channel c, InetSocketAddress source) {
                if (source == null) {
                    c.close();
                    events.proxyHeader(from, ProxyHeaderOutcome.LOCAL, "the header names no client");
                    return;
                }
                events.proxyHeader(from, ProxyHeaderOutcome.PROXIED,
                        source.getAddress().getHostAddress() + " port " + source.getPort());
                if (done || !expected.test(Addresses.unmap(source.getAddress()))) {
                    c.close();
                    events.refused(source, from);
                    return;
                }
                take(c);
                // After the read that brought the header: the decoder has left, what followed it is held.
                c.eventLoop().execute(() -> handler.handOver(c, () -> events.accepted(c)));
            }

            @Override
            public void failed(Channel c, ProxyHeaderOutcome outcome, String why) {
                if (!done) { // else closed because the port was taken or given up: nothing to report
                    events.proxyHeader(from, outcome, why);
                }
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
        closePending();
    }
}
