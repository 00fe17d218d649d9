package io.ftpgate.session;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.data.Transport;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.MicrometerMetrics;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RecordingFirewall;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One control session with both legs as {@link EmbeddedChannel}s (layer (b) of STYLE.md): the
 * client leg through the real {@link ClientLegInitializer}, the server leg through
 * {@link UpstreamConnector#initPipeline} from an injected {@link UpstreamDialer}. Bytes go in as a
 * peer would send them and come out as the peer would read them; nothing touches the network.
 * Firewall results come back through the session's (embedded) loop: {@link #runTasks()}.
 */
final class SessionHarness implements AutoCloseable {
    static final InetSocketAddress CLIENT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 50000);
    static final InetSocketAddress GATEWAY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 2121);
    static final InetSocketAddress SERVER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 21);

    final RecordingFirewall firewall = new RecordingFirewall();
    final LeaseExecutor leases = new LeaseExecutor(firewall);
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final SessionRegistry registry = new SessionRegistry(10);
    final EmbeddedChannel client;
    EmbeddedChannel server;

    SessionHarness(Map<String, Object> settings) throws Exception {
        this(settings, m -> m);
    }

    /** @param metrics wraps the session's metrics (to inject a fault) */
    SessionHarness(Map<String, Object> overrides, UnaryOperator<GatewayMetrics> metrics) throws Exception {
        Map<String, Object> m = new HashMap<>(overrides);
        m.put("ftpgate.listeners.test.listen", java.util.List.of("127.0.0.1:2121"));
        m.put("ftpgate.listeners.test.upstream", "127.0.0.1:21");
        Settings settings = GatewayUnderTest.settings(m);
        UpstreamDialer dialer = (session, upstream, from, implicitTls) -> {
            server = new Addressed(new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000), SERVER);
            UpstreamConnector.initPipeline(session, server);
            try {
                server.register();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return server.newSucceededFuture();
        };
        SessionServices services = SessionServices.create(settings, Transport.nio(), leases,
                metrics.apply(new MicrometerMetrics(meters, "test", "test")), registry, Set.of(GATEWAY.getAddress()), false,
                io.netty.util.concurrent.GlobalEventExecutor.INSTANCE, HostLookup.resolvers(settings.control(), Transport.nio()), dialer);
        client = new Addressed(GATEWAY, CLIENT);
        client.pipeline().addLast(new ClientLegInitializer("test", Settings.Mode.EXPLICIT,
                Endpoint.parse("127.0.0.1:21"), services, LegTls.OFF, Settings.ProxyProtocol.OFF));
        client.register();
        // The session opens its server leg in a task of its loop (see io.ftpgate.data.NewSockets).
        runTasks();
    }

    /** The client sends {@code text} (CRLF is the caller's). */
    void clientSends(String text) {
        client.writeInbound(bytes(text));
        runTasks();
    }

    /** The server sends {@code text}. */
    void serverSends(String text) {
        server.writeInbound(bytes(text));
        runTasks();
    }

    /** What the client has been sent so far. */
    String clientReads() {
        return drain(client);
    }

    /** What the server has been sent so far. */
    String serverReads() {
        return drain(server);
    }

    void runTasks() {
        client.runPendingTasks();
        if (server != null) {
            server.runPendingTasks();
        }
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        client.finishAndReleaseAll();
        if (server != null) {
            server.finishAndReleaseAll();
        }
        leases.close();
    }

    /** An embedded channel with the addresses of a TCP connection. */
    static final class Addressed extends EmbeddedChannel {
        private final InetSocketAddress local;
        private final InetSocketAddress remote;

        Addressed(InetSocketAddress local, InetSocketAddress remote) {
            super(DefaultChannelId.newInstance(), false, false);
            this.local = local;
            this.remote = remote;
        }

        @Override
        protected SocketAddress localAddress0() {
            return local;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }
    }
}
