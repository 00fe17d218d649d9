package io.ftpgate.data;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** The peer a decoded PROXY protocol header names, for control and data connections alike. */
public final class ProxyHeaderSource {
    private ProxyHeaderSource() {}

    /**
     * The client a PROXY command names; null for LOCAL (v2: the proxy's own connection, e.g. a
     * health check) and for UNKNOWN or UNIX-socket sources, where the specification asks the
     * receiver to use the connection's real endpoints.
     */
    public static InetSocketAddress of(HAProxyMessage header) {
        if (header.command() != HAProxyCommand.PROXY) {
            return null;
        }
        HAProxyProxiedProtocol p = header.proxiedProtocol();
        if (p.addressFamily() != HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                && p.addressFamily() != HAProxyProxiedProtocol.AddressFamily.AF_IPv6) {
            return null;
        }
        // A literal, checked by the decoder: no name lookup.
        InetAddress a = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
        return a == null ? null : new InetSocketAddress(a, header.sourcePort());
    }
}
