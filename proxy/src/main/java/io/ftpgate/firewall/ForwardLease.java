package io.ftpgate.firewall;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * Permission for exactly one data connection that the kernel forwards instead of the gateway
 * relaying it (the kernel path): TCP from {@code from} to {@code gateway:gatewayPort} is
 * destination-translated to {@code to:toPort} and source-translated to {@code source} (the
 * gateway's own address towards {@code to}, so that side sees the gateway, as with the relay).
 * For a client's PASV/EPSV, {@code from} is the client and {@code to} the server's passive port;
 * for a client's PORT/EPRT kept active towards the server, the other way round. All four
 * addresses are of one family. At most one connection may use it.
 *
 * @param sessionId the control session that negotiated it; it appears in the rules' comment
 */
public record ForwardLease(long sessionId, InetAddress from, InetAddress gateway, int gatewayPort,
                           InetAddress to, int toPort, InetAddress source) {

    public ForwardLease {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(source, "source");
        for (InetAddress a : new InetAddress[] {gateway, to, source}) {
            if (a.getClass() != from.getClass()) {
                throw new IllegalArgumentException("from " + from + " and " + a + " differ in family");
            }
        }
        for (int port : new int[] {gatewayPort, toPort}) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " out of range");
            }
        }
    }

    public boolean isIpv6() {
        return from instanceof Inet6Address;
    }

    @Override
    public String toString() {
        return "session " + sessionId + " forwarded tcp " + from.getHostAddress() + " -> " + gateway.getHostAddress()
                + ":" + gatewayPort + " => " + source.getHostAddress() + " -> " + to.getHostAddress() + ":" + toPort;
    }
}
