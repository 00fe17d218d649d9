package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.ForwardLease;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden text of the kernel path in ftpgate's nftables table, as in NftForwarding's Javadoc and the README. */
class NftForwardingTest {

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, false);

    @Test
    void theKernelPathsMapsSetsAndChains() {
        String table = rules.tableDefinition(null, new int[] {40000, 40999}, 8);
        assertThat(table).contains("""
                	map fwd4 {
                		type ipv4_addr . ipv4_addr . inet_service : ipv4_addr . inet_service
                		size 262144
                		flags timeout
                	}

                	map snat4 {
                		type ipv4_addr . ipv4_addr . inet_service : ipv4_addr
                		size 262144
                		flags timeout
                	}

                	set used4 {
                		type ipv4_addr . ipv4_addr . inet_service
                		size 262144
                		flags dynamic,timeout
                		timeout 8s
                	}
                """, """
                	chain kernel-dnat {
                		type nat hook prerouting priority dstnat - 10; policy accept;
                		ip saddr . ip daddr . tcp dport @used4 return comment "ftpgate kernel path: one connection per lease"
                		ip saddr . ip daddr . tcp dport @fwd4 add @used4 { ip saddr . ip daddr . tcp dport } dnat ip to ip saddr . ip daddr . tcp dport map @fwd4 comment "ftpgate kernel path"
                		ip6 saddr . ip6 daddr . tcp dport @used6 return comment "ftpgate kernel path: one connection per lease"
                		ip6 saddr . ip6 daddr . tcp dport @fwd6 add @used6 { ip6 saddr . ip6 daddr . tcp dport } dnat ip6 to ip6 saddr . ip6 daddr . tcp dport map @fwd6 comment "ftpgate kernel path"
                	}

                	chain kernel-snat {
                		type nat hook postrouting priority srcnat - 10; policy accept;
                		meta l4proto tcp ct status dnat snat ip to ip saddr . ct original ip daddr . ct original proto-dst map @snat4 comment "ftpgate kernel path"
                		meta l4proto tcp ct status dnat snat ip6 to ip6 saddr . ct original ip6 daddr . ct original proto-dst map @snat6 comment "ftpgate kernel path"
                	}

                	chain forward {
                		type filter hook forward priority filter - 10; policy accept;
                		meta mark & 0x00800000 != 0x00000000 meta mark set meta mark & 0xff7fffff comment "ftpgate: only a lease sets this bit"
                		meta l4proto tcp ct state new ct status dnat ip saddr . ct original ip daddr . ct original proto-dst @used4 meta mark set meta mark | 0x00800000 comment "ftpgate kernel path"
                		meta l4proto tcp ct state new ct status dnat ip6 saddr . ct original ip6 daddr . ct original proto-dst @used6 meta mark set meta mark | 0x00800000 comment "ftpgate kernel path"
                		meta l4proto tcp ct state established,related ct status dnat ct original proto-dst 40000-40999 meta mark set meta mark | 0x00800000 comment "ftpgate kernel path"
                	}
                }
                """);
        assertThat(rules.tableDefinition(null, null, 8)).isEqualTo(rules.tableDefinition());
    }

    @Test
    void aLeaseIsTwoElementsInOneLineAndItsRevokeIsIdempotent() throws Exception {
        ForwardLease lease = new ForwardLease(17, ip("198.51.100.2"), ip("198.51.100.1"), 40017, ip("203.0.113.2"), 30000,
                ip("203.0.113.1"));
        assertThat(rules.applyForward(lease, 8)).isEqualTo(
                "add element inet ftpgate snat4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 8s : 203.0.113.1 };"
                        + " add element inet ftpgate fwd4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 8s : 203.0.113.2 . 30000 }");
        assertThat(rules.revokeForward(lease)).isEqualTo(
                "add element inet ftpgate fwd4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 1s : 203.0.113.2 . 30000 };"
                        + " delete element inet ftpgate fwd4 { 198.51.100.2 . 198.51.100.1 . 40017 };"
                        + " add element inet ftpgate snat4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 1s : 203.0.113.1 };"
                        + " delete element inet ftpgate snat4 { 198.51.100.2 . 198.51.100.1 . 40017 };"
                        + " add element inet ftpgate used4 { 198.51.100.2 . 198.51.100.1 . 40017 timeout 1s };"
                        + " delete element inet ftpgate used4 { 198.51.100.2 . 198.51.100.1 . 40017 }");
        ForwardLease v6 = new ForwardLease(18, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40018, ip("2001:db8:2::2"), 30001,
                ip("2001:db8:2::1"));
        assertThat(rules.forwardUsed(v6)).containsExactly("get", "element", "inet", "ftpgate", "used6",
                "{ 2001:db8:1::2 . 2001:db8:1::1 . 40018 }");
    }

    @Test
    void timeoutsAsNftPrintsThem() {
        assertThat(List.of(NftRules.durationText(8), NftRules.durationText(60), NftRules.durationText(65),
                NftRules.durationText(3600))).containsExactly("8s", "1m", "1m5s", "1h");
    }

    @Test
    void theReadmeShowsTheKernelPathsChains() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        String table = rules.tableDefinition(null, new int[] {40000, 40999}, 8);
        assertThat(readme).contains(table.substring(table.indexOf("\tchain kernel-dnat")));
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
