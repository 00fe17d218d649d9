package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.AddressText;
import io.ftpgate.firewall.ForwardLease;
import java.util.ArrayList;
import java.util.List;

/**
 * Pure builders of the kernel path ({@code data.path = kernel}) in ftpgate's own nftables table:
 * per lease one element of a DNAT map and one of a SNAT map, and a set the kernel itself fills
 * with the one connection a lease admits. A golden test pins every line. For data ports
 * 40000-40999, entry lifetime 8 s and lease mark {@code 0x00800000}, as {@code nft list table}
 * prints them (IPv6: {@code fwd6}, {@code snat6}, {@code used6} with {@code ip6}):
 *
 * <pre>
 * map fwd4 {     # client . gateway . gateway port : server . server port
 * 	type ipv4_addr . ipv4_addr . inet_service : ipv4_addr . inet_service
 * 	size 262144
 * 	flags timeout
 * }
 * map snat4 {    # client . gateway . gateway port : the gateway's address towards the server
 * 	type ipv4_addr . ipv4_addr . inet_service : ipv4_addr
 * 	...
 * }
 * set used4 {    # filled by the kernel: the lease's one connection was made
 * 	type ipv4_addr . ipv4_addr . inet_service
 * 	size 262144
 * 	flags dynamic,timeout
 * 	timeout 8s
 * }
 * chain kernel-dnat {
 * 	type nat hook prerouting priority dstnat - 10; policy accept;
 * 	ip saddr . ip daddr . tcp dport @used4 return comment "ftpgate kernel path: one connection per lease"
 * 	ip saddr . ip daddr . tcp dport @fwd4 add @used4 { ip saddr . ip daddr . tcp dport } dnat ip to ip saddr . ip daddr . tcp dport map @fwd4 comment "ftpgate kernel path"
 * }
 * chain kernel-snat {
 * 	type nat hook postrouting priority srcnat - 10; policy accept;
 * 	meta l4proto tcp ct status dnat snat ip to ip saddr . ct original ip daddr . ct original proto-dst map @snat4 comment "ftpgate kernel path"
 * }
 * chain forward {
 * 	type filter hook forward priority filter - 10; policy accept;
 * 	meta mark &amp; 0x00800000 != 0x00000000 meta mark set meta mark &amp; 0xff7fffff comment "ftpgate: only a lease sets this bit"
 * 	meta l4proto tcp ct state new ct status dnat ip saddr . ct original ip daddr . ct original proto-dst @used4 meta mark set meta mark | 0x00800000 comment "ftpgate kernel path"
 * 	meta l4proto tcp ct state established,related ct status dnat ct original proto-dst 40000-40999 meta mark set meta mark | 0x00800000 comment "ftpgate kernel path"
 * }
 *
 * # a lease (client 198.51.100.2 to 198.51.100.1:40017, forwarded from 203.0.113.1 to 203.0.113.2:30000), one line:
 * add element inet ftpgate snat4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 8s : 203.0.113.1 }; add element inet ftpgate fwd4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 8s : 203.0.113.2 . 30000 }
 * </pre>
 *
 * <p>The nat chains see only a connection's first packet. That packet, if its tuple is leased and
 * not yet used, is recorded in {@code used4} by the kernel and translated; any later connection
 * to the same tuple finds it there and is not translated, so it reaches the input hook, where
 * nothing admits it: one connection per lease without a round trip to ftpgate (what
 * {@code xt_recent} does for the iptables backend). {@code used4} also tells ftpgate that the
 * connection was made ({@code get element}). The forward chain marks the first packet of exactly
 * that connection, and every later packet of connections translated to a data port, and the one
 * rule ftpgate inserts into the admin's forward chain ({@code firewall.nftables.hook-chains})
 * accepts what carries the bit. A revoke deletes the three elements in one transaction (a
 * connection made goes on: its translation is conntrack's); each element also dies by itself
 * after the entry lifetime, the safety net after a {@code kill -9}.
 */
final class NftForwarding {

    static final String COMMENT = "ftpgate kernel path";

    private NftForwarding() {
    }

    static String fwd(boolean ipv6) {
        return ipv6 ? "fwd6" : "fwd4";
    }

    static String snat(boolean ipv6) {
        return ipv6 ? "snat6" : "snat4";
    }

    static String used(boolean ipv6) {
        return ipv6 ? "used6" : "used4";
    }

    /** The maps and sets, tab-indented as in the table, each followed by a blank line. */
    static String sets(long seconds) {
        StringBuilder t = new StringBuilder();
        for (boolean ipv6 : new boolean[] {false, true}) {
            String type = ipv6 ? "ipv6_addr" : "ipv4_addr";
            String key = type + " . " + type + " . inet_service";
            t.append(map(fwd(ipv6), key + " : " + type + " . inet_service"));
            t.append(map(snat(ipv6), key + " : " + type));
            t.append("\tset ").append(used(ipv6)).append(" {\n")
                    .append("\t\ttype ").append(key).append('\n')
                    .append("\t\tsize ").append(NftRules.MAX_ELEMENTS).append('\n')
                    .append("\t\tflags dynamic,timeout\n")
                    .append("\t\ttimeout ").append(NftRules.durationText(seconds)).append('\n')
                    .append("\t}\n\n");
        }
        return t.toString();
    }

    private static String map(String name, String type) {
        return "\tmap " + name + " {\n\t\ttype " + type + "\n\t\tsize " + NftRules.MAX_ELEMENTS + "\n\t\tflags timeout\n\t}\n\n";
    }

    /** The three chains, tab-indented, separated by blank lines. */
    static String chains(int priority, long mark, int firstPort, int lastPort) {
        String comment = " comment \"" + COMMENT + "\"\n";
        String setMark = " meta mark set meta mark | " + NftRules.hex(mark);
        StringBuilder t = new StringBuilder("\tchain kernel-dnat {\n")
                .append("\t\ttype nat hook prerouting priority dstnat - 10; policy accept;\n");
        for (boolean ipv6 : new boolean[] {false, true}) {
            String ip = ipv6 ? "ip6" : "ip";
            String tuple = ip + " saddr . " + ip + " daddr . tcp dport";
            t.append("\t\t").append(tuple).append(" @").append(used(ipv6))
                    .append(" return comment \"" + COMMENT + ": one connection per lease\"\n");
            t.append("\t\t").append(tuple).append(" @").append(fwd(ipv6)).append(" add @").append(used(ipv6))
                    .append(" { ").append(tuple).append(" } dnat ").append(ip).append(" to ").append(tuple)
                    .append(" map @").append(fwd(ipv6)).append(comment);
        }
        t.append("\t}\n\n\tchain kernel-snat {\n")
                .append("\t\ttype nat hook postrouting priority srcnat - 10; policy accept;\n");
        for (boolean ipv6 : new boolean[] {false, true}) {
            String ip = ipv6 ? "ip6" : "ip";
            t.append("\t\tmeta l4proto tcp ct status dnat snat ").append(ip).append(" to ").append(ip)
                    .append(" saddr . ct original ").append(ip).append(" daddr . ct original proto-dst map @")
                    .append(snat(ipv6)).append(comment);
        }
        t.append("\t}\n\n\tchain forward {\n")
                .append("\t\ttype filter hook forward priority ").append(NftRules.priorityText(priority))
                .append("; policy accept;\n")
                .append("\t\tmeta mark & ").append(NftRules.hex(mark)).append(" != 0x00000000 meta mark set meta mark & ")
                .append(NftRules.hex(~mark & 0xffffffffL)).append(" comment \"ftpgate: only a lease sets this bit\"\n");
        for (boolean ipv6 : new boolean[] {false, true}) {
            String ip = ipv6 ? "ip6" : "ip";
            t.append("\t\tmeta l4proto tcp ct state new ct status dnat ").append(ip).append(" saddr . ct original ")
                    .append(ip).append(" daddr . ct original proto-dst @").append(used(ipv6)).append(setMark).append(comment);
        }
        t.append("\t\tmeta l4proto tcp ct state established,related ct status dnat ct original proto-dst ")
                .append(firstPort).append('-').append(lastPort).append(setMark).append(comment);
        return t.append("\t}\n").toString();
    }

    /** The key of a lease's elements: {@code client . gateway . gateway port}. */
    static String key(ForwardLease lease) {
        return AddressText.of(lease.from()) + " . " + AddressText.of(lease.gateway()) + " . " + lease.gatewayPort();
    }

    /** One line (one transaction): the SNAT element, then the DNAT one that makes the lease usable. */
    static String apply(String table, ForwardLease lease, long seconds) {
        boolean v6 = lease.isIpv6();
        String key = key(lease);
        return "add element " + table + " " + snat(v6) + " { " + key + " timeout " + seconds + "s : "
                + AddressText.of(lease.source()) + " }; add element " + table + " " + fwd(v6) + " { " + key + " timeout "
                + seconds + "s : " + AddressText.of(lease.to()) + " . " + lease.toPort() + " }";
    }

    /** One line: the DNAT element first (nothing new is translated), then SNAT and the used mark; each idempotent. */
    static String revoke(String table, ForwardLease lease) {
        boolean v6 = lease.isIpv6();
        String key = key(lease);
        List<String> texts = new ArrayList<>();
        // The add must carry the element's own data: an add that differs from a present element fails.
        texts.add(idempotentDelete(table, fwd(v6), key, " : " + AddressText.of(lease.to()) + " . " + lease.toPort()));
        texts.add(idempotentDelete(table, snat(v6), key, " : " + AddressText.of(lease.source())));
        texts.add(idempotentDelete(table, used(v6), key, ""));
        return String.join("; ", texts);
    }

    private static String idempotentDelete(String table, String set, String key, String value) {
        // nft 1.0.6 has no "destroy element": add-then-delete in one transaction never fails on a missing one.
        return "add element " + table + " " + set + " { " + key + " timeout 1s" + value + " }; delete element " + table
                + " " + set + " { " + key + " }";
    }

    /** The arguments of {@code nft} that succeed exactly when the lease's connection was made. */
    static List<String> getUsed(String table, ForwardLease lease) {
        List<String> args = new ArrayList<>(List.of("get", "element"));
        args.addAll(List.of(table.split(" ")));
        args.addAll(List.of(used(lease.isIpv6()), "{ " + key(lease) + " }"));
        return args;
    }
}
