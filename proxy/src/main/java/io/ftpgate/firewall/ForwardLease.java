package io.ftpgate.firewall;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * Permission for exactly one data connection that the kernel forwards instead of the gateway
 * relaying it (the kernel path): TCP from {@code client} to {@code gateway:gatewayPort} is
 * destination-translated to {@code server:serverPort} and source-translated to {@code source}
 * (the gateway's address towards the server, so the server sees the gateway, as with the relay).
 * All four addresses are of one family. At most one connection may use it.
 *
 * @param sessionId the control session that negotiated it; it appears in the rules' comment
 */
public record ForwardLease(long sessionId, InetAddress client, InetAddress gateway, int gatewayPort,
                           InetAddress server, int serverPort, InetAddress source) {

    public ForwardLease {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(source, "source");
        for (InetAddress a : new InetAddress[] {gateway, server, source}) {
            if (a.getClass() != client.getClass()) {
                throw new IllegalArgumentException("client " + client + " and " + a + " differ in family");
            }
        }
        for (int port : new int[] {gatewayPort, serverPort}) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " out of range");
            }
        }
    }

    public boolean isIpv6() {
        return client instanceof Inet6Address;
    }

    @Override
    public String toString() {
        return "session " + sessionId + " forwarded tcp " + client.getHostAddress() + " -> " + gateway.getHostAddress()
                + ":" + gatewayPort + " => " + source.getHostAddress() + " -> " + server.getHostAddress() + ":" + serverPort;
    }
}
