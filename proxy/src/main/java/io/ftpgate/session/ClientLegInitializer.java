package io.ftpgate.session;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.data.ProxyHeaderOutcome;
import io.ftpgate.protocol.codec.FtpCommandDecoder;
import io.ftpgate.protocol.codec.FtpLineDecoder;
import io.ftpgate.protocol.codec.FtpMessageEncoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.ftpgate.policy.Addresses;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of an accepted client control connection, for one listener: the PROXY protocol
 * header where the listener takes one (see {@link ProxyHeaderHandler}), strict line framing
 * (CRLF only, RFC 959 §4.1), command decoding, idle detection, and the session. The channel
 * arrives with auto-read off; the session turns it on once the server is connected.
 */
public final class ClientLegInitializer extends ChannelInitializer<Channel> {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");
    private final String listener;
    private final Settings.Mode mode;
    private final AtomicReference<Route> route;

    /** Where new sessions of a listener go, and with which settings; replaced as a whole on reload. */
    public record Route(Endpoint upstream, SessionServices services, LegTls tls, Settings.ProxyProtocol proxy) {}

    /** @param upstream the server of an explicit listener; null for transparent and forward ones */
    public ClientLegInitializer(String listener, Settings.Mode mode, Endpoint upstream, SessionServices services,
                                LegTls tls, Settings.ProxyProtocol proxy) {
        this.listener = listener;
        this.mode = mode;
        this.route = new AtomicReference<>(new Route(upstream, services, tls, proxy));
    }

    /** Applies to sessions accepted from now on; running sessions keep what they started with. */
    public void reroute(Endpoint upstream, SessionServices services, LegTls tls, Settings.ProxyProtocol proxy) {
        route.set(new Route(upstream, services, tls, proxy));
    }

    public Settings.Mode mode() {
        return mode;
    }

    public Route route() {
        return route.get();
    }

    @Override
    protected void initChannel(Channel ch) throws javax.net.ssl.SSLException {
        Route r = route.get();
        SessionServices services = r.services();
        Settings.Control c = services.settings().control();
        if (r.proxy().enabled() && !r.proxy().trusts(Addresses.unmap(((InetSocketAddress) ch.remoteAddress()).getAddress()))) {
            // Anyone may reach the port; only a trusted load balancer may say who the client is.
            services.metrics().proxyHeader(ProxyHeaderOutcome.UNTRUSTED);
            log.warn("[{}] {}: not a trusted PROXY protocol peer (proxy-protocol.trusted); closed", listener,
                    ControlSession.text(ch.remoteAddress()));
            ch.close();
            return;
        }
        ControlSession session = new ControlSession(ch, listener, mode, r.upstream(), services, r.tls());
        if (r.proxy().enabled()) {
            // First in the pipeline: the header precedes everything, implicit TLS included. The
            // decoder removes itself after the header; TLVs (at most 4 KiB) are not used.
            ch.pipeline()
                    .addLast(PipelineNames.PROXY_DECODE, new HAProxyMessageDecoder(4096, true))
                    .addLast(PipelineNames.PROXY, new ProxyHeaderHandler(session, listener, r.proxy().headerTimeout(),
                            services.metrics()));
        }
        FtpLineDecoder frame = new FtpLineDecoder(c.maxLineLength(), true);
        // Named, so that TLS (before "frame") and other stages can be placed by name.
        ch.pipeline().addLast(PipelineNames.IDLE, new IdleStateHandler(c.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        if (r.tls().clientLegImplicit()) {
            // Implicit FTPS: TLS from the first byte; the greeting goes out once it is up.
            ch.pipeline().addLast(PipelineNames.TLS, session.clientTls().controlHandler(ch.alloc(), false));
            session.watchImplicitClientTls();
        } else if (r.tls().clientLegOn()) {
            // Explicit FTPS: nothing after the AUTH line is read in clear (see FtpLineDecoder).
            frame.gate(ClientTlsCommands::isAuthLine);
        }
        ch.pipeline()
                .addLast(PipelineNames.FRAME, frame)
                .addLast(PipelineNames.DECODE, new FtpCommandDecoder())
                .addLast(PipelineNames.ENCODE, FtpMessageEncoder.INSTANCE)
                .addLast(PipelineNames.SESSION, new ClientLegHandler(session));
    }

    /** The client leg: commands to the session. */
    static final class ClientLegHandler extends ChannelInboundHandlerAdapter {
        private static final Logger log = LoggerFactory.getLogger("ftpgate.session");
        private final ControlSession session;

        ClientLegHandler(ControlSession session) {
            this.session = session;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            session.start();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            session.clientMessage(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            session.clientClosed();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                session.clientIdle();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("session {}: client connection error: {}", session.id(), cause.toString());
            session.clientClosed();
            ctx.close();
        }
    }
}
