package io.ftpgate;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets listening in this network namespace, as {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6} list them: to tell whether a port that ftpgate shares among its own
 * sockets ({@code SO_REUSEPORT}) is listened on by anyone else as well.
 */
final class ListeningSockets {
    /** TCP_LISTEN in the {@code st} column. */
    private static final String LISTEN = "0A";
    private static final byte[] V4_MAPPED_ANY = new byte[16];

    static {
        V4_MAPPED_ANY[10] = (byte) 0xff;
        V4_MAPPED_ANY[11] = (byte) 0xff;
    }

    private ListeningSockets() {}

    /**
     * Listening sockets on {@code address}'s port whose address overlaps it (the same, or either
     * a wildcard) that are not among {@code ours}: one line each, with the owner's uid and the
     * socket's inode ({@code ss -ltnpe} names the process).
     */
    static List<String> others(InetSocketAddress address, Collection<Channel> ours) throws IOException {
        Set<String> own = new HashSet<>();
        for (Channel c : ours) {
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + ((UnixChannel) c).fd().intValue())).toString();
            own.add(link.substring("socket:[".length(), link.length() - 1));
        }
        byte[] want = mapped(address.getAddress().getAddress());
        List<String> others = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try (BufferedReader r = Files.newBufferedReader(Path.of(table))) {
                r.readLine(); // the heading
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                    String[] f = line.trim().split("\\s+");
                    if (!f[3].equals(LISTEN)) {
                        break; // the kernel lists listening sockets first (tcp_seq_start: listening hash, then established)
                    }
                    int colon = f[1].indexOf(':');
                    if (Integer.parseInt(f[1].substring(colon + 1), 16) != address.getPort() || own.contains(f[9])) {
                        continue;
                    }
                    byte[] at = mapped(hexAddress(f[1].substring(0, colon)));
                    if (overlaps(want, at)) {
                        others.add(InetAddress.getByAddress(at).getHostAddress() + " port " + address.getPort()
                                + " (uid " + f[7] + ", socket inode " + f[9] + ")");
                    }
                }
            }
        }
        return others;
    }

    /** Whether a connection to one of the two addresses could reach a socket bound to the other. */
    private static boolean overlaps(byte[] a, byte[] b) {
        return Arrays.equals(a, b) || isAny(a) || isAny(b)
                || (Arrays.equals(a, V4_MAPPED_ANY) && isV4Mapped(b)) || (Arrays.equals(b, V4_MAPPED_ANY) && isV4Mapped(a));
    }

    private static boolean isAny(byte[] a) {
        return Arrays.equals(a, new byte[16]);
    }

    private static boolean isV4Mapped(byte[] a) {
        return Arrays.equals(Arrays.copyOf(a, 12), Arrays.copyOf(V4_MAPPED_ANY, 12));
    }

    /** IPv4 as IPv4-mapped IPv6 (how a dual-stack socket bound to it appears in tcp6). */
    private static byte[] mapped(byte[] raw) {
        if (raw.length == 16) {
            return raw;
        }
        byte[] m = V4_MAPPED_ANY.clone();
        System.arraycopy(raw, 0, m, 12, 4);
        return m;
    }

    /** The kernel prints the address as 32-bit words in host byte order, each {@code %08X}. */
    private static byte[] hexAddress(String hex) {
        ByteBuffer b = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < hex.length(); i += 8) {
            b.putInt((int) Long.parseLong(hex.substring(i, i + 8), 16));
        }
        return b.array();
    }
}
