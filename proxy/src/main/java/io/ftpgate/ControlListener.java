package io.ftpgate;

import io.ftpgate.data.NewSockets;
import io.ftpgate.data.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One control listener address, bound as one listening socket per event loop with
 * {@code SO_REUSEPORT}: the kernel spreads new connections over the sockets (by a hash of the
 * addresses and ports), and the loop whose socket accepted a client is its session's loop, so a
 * session starts without waking another thread. Where the transport or the kernel cannot share a
 * port so, it is one socket whose accepted clients are handed to the group's loops in turn.
 *
 * <p>A port shared with {@code SO_REUSEPORT} could be shared with anyone: any other socket of the
 * same user with the option set may join, and the kernel would then split new connections between
 * it and ftpgate, silently (two ftpgate instances run as root, by mistake on one port, both start).
 * So before it binds the shared sockets, ftpgate binds a probe socket to the address exactly as it
 * used to bind its one listener (SO_REUSEADDR, IP_TRANSPARENT for a transparent listener), but
 * without {@code SO_REUSEPORT}: the kernel refuses that bind if anything listens there already,
 * with or without the option, and ftpgate refuses to start (or a reload is refused) as it always
 * did, "Address already in use". The probe never listens, and is closed before the real binds.
 * Once bound, {@link ListeningSockets} checks that no socket but these listens there (a race).
 */
final class ControlListener {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ControlListener.class);
    /** Linux: SOL_IP, IP_TRANSPARENT (the option also applies to IPv6 sockets). */
    private static final int SOL_IP = 0;
    private static final int IP_TRANSPARENT = 19;

    private final List<Channel> sockets;
    private final boolean perLoop;

    private ControlListener(List<Channel> sockets, boolean perLoop) {
        this.sockets = List.copyOf(sockets);
        this.perLoop = perLoop;
    }

    /**
     * Why listening sockets cannot be one per event loop here (empty when they can): the
     * transport is not epoll, or the kernel refuses {@code SO_REUSEPORT}.
     */
    static Optional<String> whyNotPerLoop(Transport transport) {
        if (transport.serverChannel() != EpollServerSocketChannel.class) {
            return Optional.of("transport " + transport.name() + " has no SO_REUSEPORT");
        }
        Socket probe = null;
        try {
            probe = Socket.newSocketStream();
            probe.setReusePort(true);
            if (!probe.isReusePort()) {
                return Optional.of("the kernel ignores SO_REUSEPORT");
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of("the kernel refuses SO_REUSEPORT (" + e.getMessage() + ")");
        } finally {
            closeQuietly(probe);
        }
    }

    /**
     * Binds {@code address}: one socket per loop of {@code group} if {@code perLoop}, else one
     * socket whose clients go to the group's loops in turn. On failure nothing stays bound.
     *
     * @param childHandler the accepted client's pipeline ({@link ChannelHandler.Sharable})
     * @throws IOException saying why the address cannot be listened on
     */
    static ControlListener bind(InetSocketAddress address, EventLoopGroup group, Transport transport, boolean perLoop,
            boolean transparent, ChannelHandler childHandler) throws IOException, InterruptedException {
        if (!perLoop) {
            return new ControlListener(List.of(bindOne(bootstrap(group, transport, childHandler, transparent), address)),
                    false);
        }
        if (address.getPort() != 0) {
            probe(address, transparent);
        }
        List<Channel> bound = new ArrayList<>();
        try {
            InetSocketAddress at = address;
            for (EventExecutor e : group) {
                // Accepting starts once every socket is bound and the port found unshared.
                ServerBootstrap b = bootstrap((EventLoop) e, transport, childHandler, transparent)
                        .option(EpollChannelOption.SO_REUSEPORT, true)
                        .option(ChannelOption.AUTO_READ, false);
                Channel c = bindOne(b, at);
                bound.add(c);
                if (!((EpollServerSocketChannel) c).config().isReusePort()) {
                    throw new IOException("SO_REUSEPORT was not set on " + c);
                }
                // Port 0: the first socket's ephemeral port is the listener's; the others share it.
                at = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) c.localAddress()).getPort());
            }
            refuseSharing(at, bound);
            bound.forEach(c -> c.config().setAutoRead(true));
        } catch (IOException | InterruptedException | RuntimeException e) {
            bound.forEach(Channel::close);
            throw e;
        }
        return new ControlListener(bound, true);
    }

    /**
     * Two instances started at the same moment could both pass the probe before either binds;
     * then each sees the other's sockets here, and refuses (each one that binds after another
     * has checked sees it). A refusing instance has not accepted anything yet: connections the
     * kernel queued on its sockets meanwhile are reset when they close.
     */
    private static void refuseSharing(InetSocketAddress at, List<Channel> ours) throws IOException {
        List<String> others;
        try {
            others = ListeningSockets.others(at, ours);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot check that no other process shares port {} (the probe bind did): {}", at.getPort(),
                    e.toString());
            return;
        }
        if (!others.isEmpty()) {
            throw new IOException("Address already in use: the port is shared (SO_REUSEPORT) with "
                    + String.join(", ", others));
        }
    }

    /**
     * A control listener's bootstrap: listener and sessions on {@code group} (one event loop, or
     * the gateway's group), each accepted client registered after the loop's I/O batch (see
     * {@link NewSockets}), with auto-read off until its session has connected upstream.
     */
    static ServerBootstrap bootstrap(EventLoopGroup group, Transport transport, ChannelHandler childHandler,
            boolean transparent) {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 512)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(NewSockets.acceptAfterIoBatch())
                .childOption(ChannelOption.AUTO_READ, false)
                // No TCP_NODELAY option: Netty turns it on for every socket channel it makes (epoll
                // and NIO), and setting it again cost a setsockopt per connection (NoDelayTest).
                .childHandler(childHandler);
        if (transparent) {
            // Accepts connections to any address that TPROXY diverts to this port.
            b.option(EpollChannelOption.IP_TRANSPARENT, true);
        }
        transport.inlineUrgentData(b);
        return b;
    }

    private static Channel bindOne(ServerBootstrap b, InetSocketAddress address) throws IOException, InterruptedException {
        var f = b.bind(address).await();
        if (!f.isSuccess()) {
            throw new IOException(f.cause().getMessage(), f.cause());
        }
        return f.channel();
    }

    /** Binds (never listens) a socket like the listener's but without SO_REUSEPORT; see the class comment. */
    private static void probe(InetSocketAddress address, boolean transparent) throws IOException {
        Socket probe = Socket.newSocketStream();
        try {
            probe.setReuseAddress(true);
            if (transparent) {
                probe.setIntOpt(SOL_IP, IP_TRANSPARENT, 1);
            }
            probe.bind(address);
        } finally {
            closeQuietly(probe);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // nothing was bound that outlives the descriptor
            }
        }
    }

    /** The listening sockets, one per event loop (or the one). */
    List<Channel> sockets() {
        return sockets;
    }

    /** The address bound (port 0 resolved). */
    InetSocketAddress localAddress() {
        return (InetSocketAddress) sockets.get(0).localAddress();
    }

    /** Whether every socket still listens. */
    boolean isActive() {
        return sockets.stream().allMatch(Channel::isActive);
    }

    /** Stops accepting on every socket (without waiting: the caller may be an event loop). */
    void close() {
        sockets.forEach(Channel::close);
    }

    /** For the listener's log line: how many sockets, and who registers the sessions. */
    String describe() {
        return perLoop ? sockets.size() + " sockets (SO_REUSEPORT), one per event loop, each session on the loop that accepted it"
                : "1 socket, sessions handed to the event loops in turn";
    }
}
