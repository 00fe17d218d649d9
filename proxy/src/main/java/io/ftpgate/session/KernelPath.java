package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.policy.Addresses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a client's passive data connection can be forwarded by the kernel instead of relayed
 * ({@code data.path = kernel}): only where nothing needs converting, i.e. the client's PASV/EPSV
 * meets a passive server of the same address family, the listener is not transparent, the
 * firewall prepared the kernel path at start, and the gateway routes that family.
 */
final class KernelPath {

    private static final Path IPV4_FORWARDING = Path.of("/proc/sys/net/ipv4/ip_forward");
    private static final Path IPV6_FORWARDING = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");

    private KernelPath() {
    }

    /**
     * Why the connection from {@code client} to the gateway's {@code local} address, bound for
     * {@code server}, must be relayed; null if the kernel can forward it.
     */
    static String whyRelayed(ControlSession s, InetAddress client, InetAddress local, InetSocketAddress server) {
        if (!s.services().kernelPathReady()) {
            return "the firewall backend's kernel path is not available (see the log at start)";
        }
        if (s.mode() == Settings.Mode.TRANSPARENT) {
            return "transparent listeners relay";
        }
        InetAddress serverAddress = Addresses.unmap(server.getAddress());
        if (Addresses.isIpv4(client) != Addresses.isIpv4(serverAddress) || Addresses.isIpv4(local) != Addresses.isIpv4(client)) {
            return "client and server differ in address family";
        }
        Path sysctl = Addresses.isIpv4(client) ? IPV4_FORWARDING : IPV6_FORWARDING;
        if (!forwarding(sysctl)) {
            return sysctl + " is not 1: the gateway does not route";
        }
        return null;
    }

    private static boolean forwarding(Path sysctl) {
        try {
            return Files.readString(sysctl).strip().equals("1");
        } catch (IOException e) {
            return false;
        }
    }
}
