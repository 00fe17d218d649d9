package io.ftpgate.firewall;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The routing half of transparent interception, the same for every backend: arguments of the
 * {@code ip} binary (no binary, no command prefix) that send packets carrying ftpgate's mark to
 * the local host. A golden test pins them. For mark 0x1 and table 100:
 *
 * <pre>
 * ip -4 rule add fwmark 0x1/0x1 lookup 100
 * ip -4 route replace local 0.0.0.0/0 dev lo table 100
 * # likewise ip -6 ..., with ::/0
 * </pre>
 *
 * <p>Why: a diverted SYN keeps its original destination, an address that is not the gateway's; the
 * mark (set by the firewall's interception rules) makes the routing rule pick a table whose only
 * route says "local", so the packet reaches the input hook and the transparent socket.
 */
public final class TproxyRouting {

    private TproxyRouting() {
    }

    public static List<String> addIpRule(int mark, int table, boolean ipv6) {
        return List.of(family(ipv6), "rule", "add", "fwmark", mark(mark), "lookup", Integer.toString(table));
    }

    public static List<String> deleteIpRule(int mark, int table, boolean ipv6) {
        return List.of(family(ipv6), "rule", "del", "fwmark", mark(mark), "lookup", Integer.toString(table));
    }

    public static List<String> listIpRules(boolean ipv6) {
        return List.of(family(ipv6), "rule", "show");
    }

    /** Whether a line of {@code ip rule show} is the one {@link #addIpRule} adds. */
    public static boolean isIpRule(String line, int mark, int table) {
        return line.matches(".*\\sfwmark " + Pattern.quote(mark(mark)) + " lookup " + table + "\\s*");
    }

    public static List<String> replaceLocalRoute(int table, boolean ipv6) {
        return List.of(family(ipv6), "route", "replace", "local", ipv6 ? "::/0" : "0.0.0.0/0", "dev", "lo",
                "table", Integer.toString(table));
    }

    public static List<String> deleteLocalRoute(int table, boolean ipv6) {
        return List.of(family(ipv6), "route", "del", "local", ipv6 ? "::/0" : "0.0.0.0/0", "dev", "lo",
                "table", Integer.toString(table));
    }

    /** Whether a failed {@link #deleteLocalRoute} failed only because there was no such route (IPv4 and IPv6 say it differently). */
    public static boolean noSuchRoute(String stderr) {
        return stderr.contains("No such process") || stderr.contains("No such file or directory");
    }

    /** {@code 0x1/0x1}: the mark bits, masked by themselves so that other bits of the mark are left alone. */
    public static String mark(int mark) {
        String hex = "0x" + Integer.toHexString(mark);
        return hex + "/" + hex;
    }

    private static String family(boolean ipv6) {
        return ipv6 ? "-6" : "-4";
    }
}
