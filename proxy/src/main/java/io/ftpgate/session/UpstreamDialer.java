package io.ftpgate.session;

import io.netty.channel.ChannelFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * How a session opens its control connection to the server. The gateway's is
 * {@link UpstreamConnector#connect} (a Netty connection on the session's event loop); tests put
 * an {@code EmbeddedChannel} there, with the same pipeline ({@link UpstreamConnector#initPipeline}).
 */
@FunctionalInterface
public interface UpstreamDialer {
    UpstreamDialer NETTY = UpstreamConnector::connect;

    /**
     * @param from the source address to connect from (transparent: the client's), or null for the kernel's choice
     * @param implicitTls implicit FTPS towards the server: the TLS client handler to put first, or null
     */
    ChannelFuture dial(ControlSession session, InetSocketAddress upstream, InetAddress from,
                       io.netty.handler.ssl.SslHandler implicitTls);
}
