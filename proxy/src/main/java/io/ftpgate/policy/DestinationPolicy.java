package io.ftpgate.policy;

import io.ftpgate.config.Cidr;
import io.ftpgate.config.Settings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which servers a transparent or forward session may be carried to. Evaluated before connecting:
 * the gateway's own addresses, loopback, unspecified and multicast addresses are always refused
 * (a session must not loop back into the gateway), then {@code deny}, then {@code allow} and the
 * allowed ports.
 */
public final class DestinationPolicy {
    private final List<Cidr> allow;
    private final List<Cidr> deny;
    private final List<Integer> ports;
    private final Set<InetAddress> own;

    /** @param own the gateway's own addresses */
    public DestinationPolicy(Settings.Destinations d, Set<InetAddress> own) {
        this.allow = d.allow().stream().map(Cidr::parse).toList();
        this.deny = d.deny().stream().map(Cidr::parse).toList();
        this.ports = d.ports();
        this.own = own.stream().map(Addresses::unmap).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** @return why {@code destination} is refused, or empty when it may be connected to */
    public Optional<Reason> check(InetSocketAddress destination) {
        InetAddress a = Addresses.unmap(destination.getAddress());
        if (own.contains(a) || a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isMulticastAddress()) {
            return Optional.of(Reason.DESTINATION_LOOP);
        }
        if (deny.stream().anyMatch(c -> c.contains(a)) || allow.stream().noneMatch(c -> c.contains(a))) {
            return Optional.of(Reason.DESTINATION_DENIED);
        }
        if (!ports.contains(destination.getPort())) {
            return Optional.of(Reason.DESTINATION_DENIED);
        }
        return Optional.empty();
    }
}
