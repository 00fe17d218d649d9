package io.ftpgate.firewall;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Permission for exactly one data connection: TCP from {@code peer} to {@code local:port}
 * ({@link Direction#INBOUND}, the gateway listens) or from {@code local} to {@code peer:port}
 * ({@link Direction#OUTBOUND}, the gateway connects). Both addresses are of one family.
 *
 * <p>With {@code divert} (transparent mode), {@code local} is not one of the gateway's addresses
 * but the one the peer believes it talks to (the FTP server's, or the client's): an INBOUND lease
 * then also diverts exactly that connection to the gateway's transparent socket on
 * {@code local:port} (TPROXY); an OUTBOUND one needs nothing more than the static interception
 * pieces, which deliver the replies to the gateway's transparent socket.
 *
 * @param sessionId the control session that negotiated it; it appears in the rule's comment
 */
public record DataLease(long sessionId, Direction direction, InetAddress peer, InetAddress local, int port,
                        boolean divert) {

    public enum Direction { INBOUND, OUTBOUND }

    /** A lease for a connection to or from one of the gateway's own addresses. */
    public DataLease(long sessionId, Direction direction, InetAddress peer, InetAddress local, int port) {
        this(sessionId, direction, peer, local, port, false);
    }

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
        return "session " + sessionId + " " + direction.name().toLowerCase() + (divert ? " diverted" : "")
                + " tcp " + from + " -> " + to + ":" + port;
    }
}
