package io.ftpgate.data;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;

/** The Netty transport in use: native epoll where the platform has it, NIO otherwise. */
public record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends Channel> socketChannel) {

    public static Transport detect() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
        return nio();
    }

    /**
     * Whether plain data connections can be spliced (epoll channels, {@code splice(2)}): the
     * epoll transport is in use.
     */
    public boolean canSplice() {
        return socketChannel == EpollSocketChannel.class && Splice.pipesOwnable();
    }

    /**
     * The socket channel for a connection to {@code peer}. With epoll an IPv4 peer gets an AF_INET
     * socket: Netty's own choice, an AF_INET6 socket carrying IPv4 as mapped addresses, costs a
     * setsockopt (IPV6_V6ONLY off) per socket, and the connection is the same on the wire and in
     * Netty's addresses (IPv4 either way). A peer not resolved yet (null) gets Netty's choice.
     */
    public ChannelFactory<? extends Channel> socketChannelFor(InetAddress peer) {
        if (socketChannel == EpollSocketChannel.class) {
            return peer instanceof Inet4Address ? () -> new EpollSocketChannel(SocketProtocolFamily.INET) : EpollSocketChannel::new;
        }
        return new ReflectiveChannelFactory<>(socketChannel);
    }

    /** The server channel for a listener bound to {@code local}: like {@link #socketChannelFor}. */
    public ChannelFactory<? extends ServerChannel> serverChannelFor(InetAddress local) {
        if (serverChannel == EpollServerSocketChannel.class) {
            return local instanceof Inet4Address ? () -> new EpollServerSocketChannel(SocketProtocolFamily.INET)
                    : EpollServerSocketChannel::new;
        }
        return new ReflectiveChannelFactory<>(serverChannel);
    }

    /**
     * SO_OOBINLINE for epoll sockets (level SOL_SOCKET = 1, option SO_OOBINLINE = 10 on Linux):
     * Netty has no named option for it.
     */
    private static final ChannelOption<Integer> EPOLL_OOB_INLINE = new IntegerUnixChannelOption("SO_OOBINLINE", 1, 10);
    /** The JDK's own SO_OOBINLINE of NIO socket channels (not public API, but listed as supported), or null. */
    private static final ChannelOption<Boolean> NIO_OOB_INLINE = nioOobInline();

    /**
     * Control connections read TCP urgent data in line (SO_OOBINLINE), as vsftpd does. A client
     * that sends ABOR the way Python's ftplib does ({@code send(b"ABOR\r\n", MSG_OOB)}) marks its
     * last byte urgent; without this the kernel keeps that byte out of the stream, the gateway sees
     * {@code ABOR\r} and glues the next command to it. RFC 959's Telnet Synch (IAC IP, IAC DM with
     * the DM urgent) loses its DM the same way. In line, both are ordinary bytes for the framer.
     */
    public void inlineUrgentData(ServerBootstrap b) {
        if (socketChannel == EpollSocketChannel.class) {
            b.childOption(EPOLL_OOB_INLINE, 1);
        } else if (NIO_OOB_INLINE != null) {
            b.childOption(NIO_OOB_INLINE, true);
        }
    }

    /** Like {@link #inlineUrgentData(ServerBootstrap)}, for a connection the gateway opens. */
    public void inlineUrgentData(Bootstrap b) {
        if (socketChannel == EpollSocketChannel.class) {
            b.option(EPOLL_OOB_INLINE, 1);
        } else if (NIO_OOB_INLINE != null) {
            b.option(NIO_OOB_INLINE, true);
        }
    }

    /** Whether control connections can read urgent data in line (see {@link #inlineUrgentData}). */
    public boolean canInlineUrgentData() {
        return socketChannel == EpollSocketChannel.class || NIO_OOB_INLINE != null;
    }

    @SuppressWarnings("unchecked")
    private static ChannelOption<Boolean> nioOobInline() {
        try (SocketChannel probe = SocketChannel.open()) {
            for (SocketOption<?> o : probe.supportedOptions()) {
                if (o.name().equals("SO_OOBINLINE") && o.type() == Boolean.class) {
                    return NioChannelOption.of((SocketOption<Boolean>) o);
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            // reported by canInlineUrgentData
        }
        return null;
    }

    /** The datagram channel of this transport (the DNS resolver's). */
    public Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannel() {
        return socketChannel == EpollSocketChannel.class ? io.netty.channel.epoll.EpollDatagramChannel.class
                : io.netty.channel.socket.nio.NioDatagramChannel.class;
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}
