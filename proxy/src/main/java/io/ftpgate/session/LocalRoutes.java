package io.ftpgate.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Which of the gateway's addresses the kernel would use to reach a peer (no packet is sent). */
final class LocalRoutes {
    private LocalRoutes() {}

    static InetAddress sourceAddressTowards(InetAddress peer) {
        // connect() on a UDP socket only selects the route and source address.
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress(peer, 9));
            return io.ftpgate.policy.Addresses.unmap(s.getLocalAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("no route to " + peer.getHostAddress(), e);
        }
    }
}
