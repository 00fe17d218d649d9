package io.ftpgate.policy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/** Which data connections ftpgate agrees to make, and to where. */
public final class DataPolicy {

    /** Lowest port a client may name in PORT/EPRT (RFC 2577 §3: no privileged ports). */
    public static final int FIRST_UNPRIVILEGED_PORT = 1024;

    private final boolean trustPassiveAddress;

    public DataPolicy(boolean trustPassiveAddress) {
        this.trustPassiveAddress = trustPassiveAddress;
    }

    /**
     * Checks a client's PORT/EPRT target: it must be the client's own control-connection address
     * (anything else is an FTP bounce, RFC 2577 §3) and an unprivileged port.
     *
     * @return the reason to refuse, or empty when allowed
     */
    public Optional<Reason> checkActiveTarget(InetAddress clientControlAddress, InetSocketAddress target) {
        InetAddress requested = Addresses.unmap(target.getAddress());
        InetAddress client = Addresses.unmap(clientControlAddress);
        if (requested.getClass() != client.getClass()) {
            return Optional.of(Reason.FAMILY_MISMATCH);
        }
        if (!requested.equals(client)) {
            return Optional.of(Reason.BOUNCE);
        }
        if (target.getPort() < FIRST_UNPRIVILEGED_PORT) {
            return Optional.of(Reason.PRIVILEGED_PORT);
        }
        return Optional.empty();
    }

    /**
     * Where to connect for a server's 227 reply. By default the announced address is replaced by
     * the server's control-connection address: servers behind NAT announce private addresses, and
     * a hostile server must not steer the gateway to a third host.
     */
    public InetSocketAddress passiveTarget(InetAddress serverControlAddress, InetAddress announced, int port) {
        InetAddress host = trustPassiveAddress ? Addresses.unmap(announced) : Addresses.unmap(serverControlAddress);
        return new InetSocketAddress(host, port);
    }

    /**
     * Whether the gateway may connect to a server's passive address (227 or 229, either family):
     * never to a port below 1024 (RFC 2577 §3, as OpenBSD's ftp-proxy), where a hostile server would
     * point the gateway at another service (ssh on 22, smtp on 25) with the gateway's address.
     */
    public static Optional<Reason> checkPassiveTarget(InetSocketAddress target) {
        return target.getPort() < FIRST_UNPRIVILEGED_PORT ? Optional.of(Reason.PRIVILEGED_PASSIVE_PORT) : Optional.empty();
    }

    /** Whether a connection to a data listener comes from the negotiated peer. */
    public static boolean isExpectedPeer(InetAddress expected, InetAddress actual) {
        return Addresses.same(expected, actual);
    }
}
