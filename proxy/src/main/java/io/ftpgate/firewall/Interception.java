package io.ftpgate.firewall;

import java.util.List;

/**
 * The static pieces of transparent interception (TPROXY): new TCP connections to one of
 * {@code ports}, arriving on one of {@code inInterfaces} or from one of {@code sourceNetworks}, are
 * diverted to the gateway's transparent listener on {@code onPort} (any address); packets of the
 * gateway's own transparent sockets are marked; marked packets are routed to the local host by a
 * routing rule ({@code fwmark mark/mark lookup routingTable}) and a local default route in that
 * table, for IPv4 and IPv6.
 *
 * @param mark            the packet mark bit(s) ftpgate uses, e.g. 0x1
 * @param routingTable    the routing table ftpgate owns, e.g. 100
 * @param inInterfaces    client-side interfaces (empty: any)
 * @param sourceNetworks  client networks in CIDR form, IPv4 or IPv6 (empty: any)
 * @param ports           destination ports to intercept, e.g. [21]
 * @param onPort          the transparent listener's port
 */
public record Interception(int mark, int routingTable, List<String> inInterfaces, List<String> sourceNetworks,
                           List<Integer> ports, int onPort) {
    public Interception {
        inInterfaces = List.copyOf(inInterfaces);
        sourceNetworks = List.copyOf(sourceNetworks);
        ports = List.copyOf(ports);
        if (mark <= 0) {
            throw new IllegalArgumentException("mark must be positive");
        }
        if (routingTable < 1 || routingTable > 252) {
            throw new IllegalArgumentException("routing table must be in 1..252");
        }
        if (ports.isEmpty()) {
            throw new IllegalArgumentException("at least one port to intercept");
        }
    }

    /**
     * The source networks of one family, each written by {@code canonical} the way the backend's
     * tool prints it; a one-element list holding {@code null} when any source is intercepted.
     */
    public List<String> sourceNetworks(boolean ipv6, java.util.function.UnaryOperator<String> canonical) {
        if (sourceNetworks.isEmpty()) {
            return java.util.Collections.singletonList(null);
        }
        return sourceNetworks.stream().filter(network -> network.contains(":") == ipv6).map(canonical).toList();
    }
}
