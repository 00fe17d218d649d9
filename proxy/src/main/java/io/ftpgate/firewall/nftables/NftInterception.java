package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.Interception;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure builders of transparent interception (TPROXY) in ftpgate's own nftables table: two sets of
 * diverted leases, a prerouting chain, and one rule per intercepted port in ftpgate's input chain;
 * the routing ({@code ip rule}, local route) is {@link io.ftpgate.firewall.TproxyRouting}, shared
 * with the iptables backends. A golden test pins every line. For
 * {@code Interception(mark=0x1, routingTable=100, inInterfaces=[], sourceNetworks=[], ports=[21],
 * onPort=2121)} and the lease mark {@code 0x00800000}, as {@code nft list table} prints them:
 *
 * <pre>
 * set div4 {   # a diverted INBOUND lease: peer . port . server address (div6 likewise)
 * 	type ipv4_addr . inet_service . ipv4_addr
 * 	size 262144
 * 	flags timeout
 * }
 * chain prerouting {
 * 	type filter hook prerouting priority mangle; policy accept;
 * 	# 1. packets of the gateway's existing transparent sockets (never a bare SYN): routed locally
 * 	socket transparent 1 tcp flags != syn / fin,syn,rst,ack meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
 * 	# 2. the SYN of a diverted lease whose (transparent) data listener exists
 * 	ip saddr . tcp dport . ip daddr @div4 socket transparent 1 meta mark set meta mark | 0x00000001 comment "ftpgate lease set"
 * 	ip6 saddr . tcp dport . ip6 daddr @div6 socket transparent 1 meta mark set meta mark | 0x00000001 comment "ftpgate lease set"
 * 	# 3. new connections to an intercepted port: to the transparent listener (one rule per port x interface x network)
 * 	tcp dport 21 tproxy ip to :2121 meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
 * 	tcp dport 21 tproxy ip6 to :2121 meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
 * }
 * # in chain input, after the set rules: the intercepted SYN still has the server's address as its
 * # destination; it gets the lease bit, so the one rule in the admin's chain accepts it
 * tcp dport 21 meta mark &amp; 0x00000001 == 0x00000001 ct state new meta mark set meta mark | 0x00800000 comment "ftpgate intercept table 100"
 * </pre>
 *
 * <p>The reasons are those of the iptables rules ({@code TproxyRules}, {@code IpsetRules}): rule 1
 * skips bare SYNs because a socket lookup also finds listeners bound to a foreign address; a
 * diversion is a set element, not a rule, and marks rather than {@code tproxy}s, because one rule
 * cannot name each lease's server address, while the socket lookup finds the data listener bound
 * to exactly that address and port. With interfaces and networks, rule 3 reads e.g.
 * {@code iifname "eth0" ip saddr 198.51.100.0/24 tcp dport 21 tproxy ip to :2121 ...}. The comment
 * carries the routing table so that a fresh process can find and remove the {@code ip rule}.
 */
final class NftInterception {

    static final String COMMENT = "ftpgate intercept";
    private static final Pattern RULE = Pattern.compile(
            "tproxy ip6? to :\\d+ meta mark set meta mark \\| (0x[0-9a-f]+) comment \"" + COMMENT + " table (\\d+)\"");

    private NftInterception() {
    }

    /** The set of diverted inbound leases, e.g. {@code div4}. */
    static String set(boolean ipv6) {
        return ipv6 ? "div6" : "div4";
    }

    /** The comment of every interception rule. */
    static String comment(Interception spec) {
        return COMMENT + " table " + spec.routingTable();
    }

    /** The prerouting chain (tab-indented as in the table, with its closing brace). */
    static String preroutingChain(Interception spec) {
        String setMark = " meta mark set meta mark | " + NftRules.hex(spec.mark());
        String comment = " comment \"" + comment(spec) + "\"\n";
        StringBuilder c = new StringBuilder("\tchain prerouting {\n")
                .append("\t\ttype filter hook prerouting priority mangle; policy accept;\n")
                .append("\t\tsocket transparent 1 tcp flags != syn / fin,syn,rst,ack").append(setMark).append(comment);
        for (boolean ipv6 : new boolean[] {false, true}) {
            String ip = ipv6 ? "ip6" : "ip";
            c.append("\t\t").append(ip).append(" saddr . tcp dport . ").append(ip).append(" daddr @").append(set(ipv6))
                    .append(" socket transparent 1").append(setMark)
                    .append(" comment \"").append(NftRules.SET_RULE_COMMENT).append("\"\n");
        }
        List<String> interfaces = spec.inInterfaces().isEmpty() ? Collections.singletonList(null) : spec.inInterfaces();
        for (boolean ipv6 : new boolean[] {false, true}) {
            String ip = ipv6 ? "ip6" : "ip";
            for (int port : spec.ports()) {
                for (String iface : interfaces) {
                    for (String network : spec.sourceNetworks(ipv6, NftInterception::canonicalNetwork)) {
                        c.append("\t\t");
                        if (iface != null) {
                            c.append("iifname \"").append(iface).append("\" ");
                        }
                        if (network != null) {
                            c.append(ip).append(" saddr ").append(network).append(' ');
                        }
                        c.append("tcp dport ").append(port).append(" tproxy ").append(ip).append(" to :")
                                .append(spec.onPort()).append(setMark).append(comment);
                    }
                }
            }
        }
        return c.append("\t}\n").toString();
    }

    /** The rules for ftpgate's input chain that give intercepted control SYNs the lease bit. */
    static List<String> inputRules(Interception spec, long leaseMark) {
        List<String> rules = new ArrayList<>();
        for (int port : spec.ports()) {
            rules.add("tcp dport " + port + " meta mark & " + NftRules.hex(spec.mark()) + " == " + NftRules.hex(spec.mark())
                    + " ct state new meta mark set meta mark | " + NftRules.hex(leaseMark)
                    + " comment \"" + comment(spec) + "\"");
        }
        return rules;
    }

    /** Every (mark, routing table) the interception rules of a table listing name: what a stop must un-route. */
    static Set<List<Integer>> routingOf(String tableListing) {
        Set<List<Integer>> routing = new LinkedHashSet<>();
        Matcher m = RULE.matcher(tableListing);
        while (m.find()) {
            routing.add(List.of(Integer.parseUnsignedInt(m.group(1).substring(2), 16), Integer.parseInt(m.group(2))));
        }
        return routing;
    }

    /** The family's networks as nft prints them; [null] for "any"; empty when none is of the family. */

    /** {@code 198.51.100.7/24} as nft prints it: {@code 198.51.100.0/24}; a host prefix (/32, /128) as the bare address. */
    static String canonicalNetwork(String cidr) {
        int slash = cidr.indexOf('/');
        String host = slash < 0 ? cidr : cidr.substring(0, slash);
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(host.strip()).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + cidr, e);
        }
        int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(cidr.substring(slash + 1).strip());
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("bad prefix length in " + cidr);
        }
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - 8 * i));
            bytes[i] &= (byte) (0xff00 >> keep);
        }
        try {
            String address = io.ftpgate.firewall.AddressText.of(InetAddress.getByAddress(bytes));
            return bits == bytes.length * 8 ? address : address + "/" + bits;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
