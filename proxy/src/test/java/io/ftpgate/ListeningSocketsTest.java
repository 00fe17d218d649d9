package io.ftpgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.data.Transport;
import io.ftpgate.testing.RootTools;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Who else listens on a control listener's port: what a second instance that raced past the probe sees. */
class ListeningSocketsTest {
    private final Transport transport = Transport.detect();
    private EventLoopGroup group;
    private ControlListener listener;

    @BeforeEach
    void bind() throws Exception {
        if (!Epoll.isAvailable()) {
            RootTools.unavailable("one socket per loop needs the native epoll transport, not available here");
        }
        group = new MultiThreadIoEventLoopGroup(3, transport.ioHandlerFactory());
        listener = ControlListener.bind(new InetSocketAddress("127.0.0.1", 0), group, transport, true, false,
                new ChannelInboundHandlerAdapter());
    }

    @AfterEach
    void close() {
        if (listener != null) {
            listener.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void onlyOurOwnSocketsListenAfterABind() throws Exception {
        assertThat(listener.sockets()).hasSize(3);
        assertThat(ListeningSockets.others(listener.localAddress(), listener.sockets())).isEmpty();
    }

    @Test
    void aSocketThatJoinedThePortWithReusePortIsSeenWhereverItsAddressOverlaps() throws Exception {
        int port = listener.localAddress().getPort();
        try (ServerSocketChannel same = reusePort("127.0.0.1", port);
             ServerSocketChannel elsewhere = reusePort("127.0.0.2", port)) {
            assertThat(ListeningSockets.others(listener.localAddress(), listener.sockets()))
                    .singleElement().asString().startsWith("127.0.0.1 port " + port + " (uid ");
        }
        try (ServerSocketChannel any = reusePort("0.0.0.0", port)) {
            assertThat(ListeningSockets.others(listener.localAddress(), listener.sockets()))
                    .singleElement().asString().contains(" port " + port + " (uid ");
        }
        assertThat(ListeningSockets.others(listener.localAddress(), listener.sockets())).isEmpty();
    }

    @Test
    void aTransportWithoutReusePortGetsOneSocket() throws Exception {
        assertThat(ControlListener.whyNotPerLoop(transport)).isEmpty();
        assertThat(ControlListener.whyNotPerLoop(Transport.nio())).hasValue("transport nio has no SO_REUSEPORT");
        EventLoopGroup nio = new MultiThreadIoEventLoopGroup(2, Transport.nio().ioHandlerFactory());
        try {
            ControlListener one = ControlListener.bind(new InetSocketAddress("127.0.0.1", 0), nio, Transport.nio(), false,
                    false, new ChannelInboundHandlerAdapter());
            assertThat(one.sockets()).hasSize(1);
            assertThat(one.isActive()).isTrue();
            one.close();
        } finally {
            nio.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        assertThatThrownBy(() -> ControlListener.bind(listener.localAddress(), group, transport, true, false,
                new ChannelInboundHandlerAdapter())).hasMessageContaining("in use");
    }

    private static ServerSocketChannel reusePort(String address, int port) throws Exception {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        s.bind(new InetSocketAddress(address, port));
        return s;
    }
}
