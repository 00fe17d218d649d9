package io.ftpgate.policy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Address normalisation shared by every decision that compares addresses. */
public final class Addresses {
    private Addresses() {}

    /**
     * An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}, what a dual-stack socket reports for an
     * IPv4 peer) as the IPv4 address it is; any other address unchanged, scope ids dropped so that
     * equal addresses compare equal.
     */
    public static InetAddress unmap(InetAddress a) {
        if (a instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            try {
                if (mapped) {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                }
                return v6.getScopeId() == 0 ? v6 : InetAddress.getByAddress(b);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
        return a;
    }

    /** The wildcard address of {@code a}'s family: {@code 0.0.0.0} or {@code ::}. */
    public static InetAddress anyOfFamily(InetAddress a) {
        try {
            return InetAddress.getByAddress(new byte[unmap(a) instanceof Inet4Address ? 4 : 16]);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    public static boolean isIpv4(InetAddress a) {
        return unmap(a) instanceof Inet4Address;
    }

    /** Same address once normalised. */
    public static boolean same(InetAddress a, InetAddress b) {
        return unmap(a).equals(unmap(b));
    }
}
