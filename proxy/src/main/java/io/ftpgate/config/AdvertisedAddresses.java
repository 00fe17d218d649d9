package io.ftpgate.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * A listener's own addresses for passive replies ({@code listeners.NAME.advertised-address}): at
 * most one IPv4 and one IPv6 address. A session announces the one of the family of the address its
 * client reached; a listener without one of that family leaves it to {@code data.advertised-address}.
 * Only a 227 reply (PASV) carries an address, an IPv4 one (RFC 959 §4.1.2); a 229 (EPSV) names
 * a port only and the client reuses the control connection's address (RFC 2428 §3).
 */
public record AdvertisedAddresses(Optional<Inet4Address> ipv4, Optional<Inet6Address> ipv6) {
    public static final AdvertisedAddresses NONE = new AdvertisedAddresses(Optional.empty(), Optional.empty());

    /** The listener's address of {@code reached}'s family (an unmapped address), if it has one. */
    public Optional<InetAddress> forFamilyOf(InetAddress reached) {
        return reached instanceof Inet4Address ? ipv4.map(a -> a) : ipv6.map(a -> a);
    }

    public List<InetAddress> all() {
        return java.util.stream.Stream.concat(ipv4.stream(), ipv6.stream()).map(a -> (InetAddress) a).toList();
    }
}
