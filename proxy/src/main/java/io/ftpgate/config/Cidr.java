package io.ftpgate.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** A network in CIDR form ({@code 203.0.113.0/24}, {@code 2001:db8::/32}); a bare address is /32 or /128. */
public record Cidr(InetAddress network, int prefixLength) {

    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        if (!addr.matches("[0-9.]+") && !(addr.contains(":") && addr.matches("[0-9A-Fa-f:.]+"))) {
            throw new IllegalArgumentException("'" + text + "' is not ADDRESS/PREFIX");
        }
        InetAddress a;
        try {
            a = InetAddress.getByName(addr);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not ADDRESS/PREFIX");
        }
        int max = a instanceof Inet4Address ? 32 : 128;
        int len;
        try {
            len = slash < 0 ? max : Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has no valid prefix length");
        }
        if (len < 0 || len > max) {
            throw new IllegalArgumentException("'" + text + "': prefix length must be 0.." + max);
        }
        return new Cidr(a, len);
    }

    /** Whether {@code a} lies in this network (addresses of the other family never do). */
    public boolean contains(InetAddress a) {
        byte[] net = network.getAddress();
        byte[] x = a.getAddress();
        if (net.length != x.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (net[i] != x[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (net[full] & mask) == (x[full] & mask);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }
}
