package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.policy.Addresses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Whether a data connection can be forwarded by the kernel instead of relayed
 * ({@code data.path = kernel}): only where nothing needs converting, i.e. the client's PASV/EPSV
 * meets a passive server, or its PORT/EPRT an active one ({@code data.active-to-passive = false}),
 * of the same address family; the listener is not transparent, neither end is the gateway itself,
 * the firewall prepared the kernel path at start, and the gateway routes that family.
 */
public final class KernelPath {

    private static final Path IPV4_FORWARDING = Path.of("/proc/sys/net/ipv4/ip_forward");
    private static final Path IPV6_FORWARDING = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");

    private KernelPath() {
    }

    /**
     * Why the data connection from {@code from} to the gateway's {@code local} address, to be sent
     * on to {@code target}, must be relayed; null if the kernel can forward it.
     */
    static String whyRelayed(ControlSession s, InetAddress from, InetAddress local, InetSocketAddress target) {
        if (!s.services().kernelPathReady()) {
            return "the firewall backend's kernel path is not available (see the log at start)";
        }
        if (s.mode() == Settings.Mode.TRANSPARENT) {
            return "transparent listeners relay";
        }
        if (DataBandwidth.limits(s)) {
            return "a bandwidth limit applies (abuse.bandwidth), and only relayed bytes can be shaped";
        }
        InetAddress to = Addresses.unmap(target.getAddress());
        if (Addresses.isIpv4(from) != Addresses.isIpv4(to) || Addresses.isIpv4(local) != Addresses.isIpv4(from)) {
            return "client and server differ in address family";
        }
        for (InetAddress end : new InetAddress[] {from, to}) {
            if (end.isLoopbackAddress() || s.services().ownAddresses().contains(end)) {
                // Its packets never cross PREROUTING, where the translation is.
                return end.getHostAddress() + " is the gateway itself";
            }
        }
        Path sysctl = Addresses.isIpv4(from) ? IPV4_FORWARDING : IPV6_FORWARDING;
        if (!forwarding(sysctl)) {
            return sysctl + " is not 1: the gateway does not route";
        }
        return null;
    }

    /** The forwarding switches that are not 1 now (IPv4, IPv6): those families are relayed. */
    public static List<Path> forwardingOff() {
        return Stream.of(IPV4_FORWARDING, IPV6_FORWARDING).filter(p -> !forwarding(p)).toList();
    }

    private static boolean forwarding(Path sysctl) {
        try {
            return Files.readString(sysctl).strip().equals("1");
        } catch (IOException e) {
            return false;
        }
    }
}
