package io.ftpgate.firewall;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Permission for exactly one data connection: TCP from {@code peer} to {@code local:port}
 * ({@link Direction#INBOUND}, the gateway listens) or from {@code local} to {@code peer:port}
 * ({@link Direction#OUTBOUND}, the gateway connects). Both addresses are of one family.
 *
 * @param sessionId the control session that negotiated it; it appears in the rule's comment
 */
public record DataLease(long sessionId, Direction direction, InetAddress peer, InetAddress local, int port) {

    public enum Direction { INBOUND, OUTBOUND }

    public DataLease {
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(local, "local");
        if (peer.getClass() != local.getClass()) {
            throw new IllegalArgumentException("peer " + peer + " and local " + local + " differ in family");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range");
        }
    }

    public boolean isIpv6() {
        return peer instanceof java.net.Inet6Address;
    }

    @Override
    public String toString() {
        String from = direction == Direction.INBOUND ? peer.getHostAddress() : local.getHostAddress();
        String to = direction == Direction.INBOUND ? local.getHostAddress() : peer.getHostAddress();
        return "session " + sessionId + " " + direction.name().toLowerCase() + " tcp " + from + " -> " + to + ":" + port;
    }
}
