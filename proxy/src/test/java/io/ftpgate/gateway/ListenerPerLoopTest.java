package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RootTools;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.apache.commons.net.ftp.FTPClient;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control listener is one listening socket per event loop (SO_REUSEPORT): the kernel spreads
 * clients over the sockets, and each session lives on the loop whose socket accepted it. Reload
 * and stop close every socket; nothing else can share the port.
 */
class ListenerPerLoopTest {
    @TempDir
    Path root;

    @BeforeAll
    static void epoll() {
        if (!Epoll.isAvailable()) {
            RootTools.unavailable("one socket per loop needs the native epoll transport, not available here");
        }
    }

    private static FTPClient login(InetSocketAddress a) throws IOException {
        FTPClient c = new FTPClient();
        c.connect(a.getAddress(), a.getPort());
        assertThat(c.login("anonymous", "x")).as(c.getReplyString()).isTrue();
        return c;
    }

    /** Records each client that a listening socket accepts (the message of its channelRead). */
    @ChannelHandler.Sharable
    private static final class Accepted extends ChannelInboundHandlerAdapter {
        final Deque<Channel> clients = new ConcurrentLinkedDeque<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            clients.add((Channel) msg);
            ctx.fireChannelRead(msg);
        }
    }

    @Test
    void clientsAreSpreadOverTheLoopsAndEachSessionStaysOnTheLoopThatAcceptedIt() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                     Map.of("ftpgate.control.event-loops", 3))) {
            List<Channel> sockets = gw.gateway.listenerSockets().get("test 127.0.0.1:0");
            assertThat(sockets).as("one socket per event loop (control.event-loops = 3)").hasSize(3);
            assertThat(sockets).allSatisfy(s -> assertThat(s.localAddress()).isEqualTo(gw.address()));
            assertThat(sockets.stream().map(Channel::eventLoop).distinct()).hasSameSizeAs(sockets);
            Accepted accepted = new Accepted();
            for (Channel s : sockets) {
                s.pipeline().addFirst(accepted);
                s.eventLoop().submit(() -> { }).sync(); // after its handlerAdded, which the loop runs
            }

            Set<Channel> accepting = new HashSet<>();
            for (int i = 0; i < 40; i++) { // one after the other: the embedded server admits 10 anonymous logins
                FTPClient c = login(gw.address());
                assertThat(accepted.clients).hasSize(i + 1);
                Channel client = accepted.clients.getLast();
                assertThat(client.isRegistered()).as("the session is up").isTrue();
                assertThat(client.eventLoop()).as("the session's loop is the loop of the socket that accepted it")
                        .isSameAs(client.parent().eventLoop());
                accepting.add(client.parent());
                c.logout();
                c.disconnect();
            }
            assertThat(accepting).as("listening sockets that accepted a client").hasSizeGreaterThan(1);
        }
    }

    @Test
    void reloadAndStopCloseEverySocketOfAListener() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true)) {
            GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                    "ftpgate.listeners.extra.listen", List.of("127.0.0.1:0"),
                    "ftpgate.listeners.extra.upstream", "127.0.0.1:" + server.port()));
            try {
                List<Channel> extra = gw.gateway.listenerSockets().get("extra 127.0.0.1:0");
                int extraPort = ((InetSocketAddress) extra.get(0).localAddress()).getPort();
                login(gw.gateway.boundAddresses().get(1)).disconnect();

                gw.gateway.reload(GatewayUnderTest.settings(Map.of(
                        "ftpgate.listeners.test.listen", List.of("127.0.0.1:0"),
                        "ftpgate.listeners.test.upstream", "127.0.0.1:" + server.port(),
                        "ftpgate.metrics.listen", "")));
                assertThat(gw.gateway.listenerSockets()).containsOnlyKeys("test 127.0.0.1:0");
                awaitFree(extra, extraPort);
            } finally {
                gw.close();
            }
            List<Channel> test = gw.gateway.listenerSockets().get("test 127.0.0.1:0");
            awaitFree(test, gw.address().getPort());
        }
    }

    @Test
    void aSecondGatewayOnTheSamePortDoesNotStartAndTheFirstGoesOn() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest first = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of())) {
            String taken = "127.0.0.1:" + first.address().getPort();
            assertThatThrownBy(() -> new GatewayUnderTest(taken, "127.0.0.1:" + server.port(), Map.of()).close())
                    .hasMessageContaining("cannot listen on " + taken).hasMessageContaining("in use");
            assertThat(first.gateway.listenerSockets().get("test 127.0.0.1:0")).allMatch(Channel::isActive);
            for (int i = 0; i < 8; i++) {
                login(first.address()).disconnect();
            }
            assertThat(first.gateway.notReady()).isEmpty();
        }
    }

    @Test
    void aPortSharedWithAnotherProgramsReusePortSocketIsRefused() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             ServerSocketChannel other = ServerSocketChannel.open()) {
            // Same user, SO_REUSEPORT: the kernel alone would let ftpgate join this socket's port.
            other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            other.bind(new InetSocketAddress("127.0.0.1", 0));
            String taken = "127.0.0.1:" + ((InetSocketAddress) other.getLocalAddress()).getPort();
            assertThatThrownBy(() -> new GatewayUnderTest(taken, "127.0.0.1:" + server.port(), Map.of()).close())
                    .hasMessageContaining("cannot listen on " + taken).hasMessageContaining("in use");
        }
    }

    /** Every socket closes, and then a plain listener can take the port. */
    private static void awaitFree(List<Channel> sockets, int port) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(sockets).noneMatch(Channel::isOpen);
            try (ServerSocket plain = new ServerSocket()) {
                plain.bind(new InetSocketAddress("127.0.0.1", port));
            }
        });
    }
}
