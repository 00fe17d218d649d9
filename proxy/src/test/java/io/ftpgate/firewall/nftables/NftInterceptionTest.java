package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.TproxyRouting;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden text of transparent interception in ftpgate's nftables table, as in NftInterception's Javadoc and the README. */
class NftInterceptionTest {

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, false);
    private final Interception plain = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);

    @Test
    void theTableWithInterception() {
        assertThat(rules.tableDefinition(plain)).isEqualTo("""
                table inet ftpgate {
                	set in4 {
                		type ipv4_addr . inet_service . ipv4_addr
                		size 262144
                		flags timeout
                	}

                	set in6 {
                		type ipv6_addr . inet_service . ipv6_addr
                		size 262144
                		flags timeout
                	}

                	set div4 {
                		type ipv4_addr . inet_service . ipv4_addr
                		size 262144
                		flags timeout
                	}

                	set div6 {
                		type ipv6_addr . inet_service . ipv6_addr
                		size 262144
                		flags timeout
                	}

                	chain input {
                		type filter hook input priority filter - 10; policy accept;
                		meta mark & 0x00800000 != 0x00000000 meta mark set meta mark & 0xff7fffff comment "ftpgate: only a lease sets this bit"
                		ct state new ip saddr . tcp dport . ip daddr @in4 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                		ct state new ip6 saddr . tcp dport . ip6 daddr @in6 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                		tcp dport 21 meta mark & 0x00000001 == 0x00000001 ct state new meta mark set meta mark | 0x00800000 comment "ftpgate intercept table 100"
                	}

                	chain prerouting {
                		type filter hook prerouting priority mangle; policy accept;
                		socket transparent 1 tcp flags != syn / fin,syn,rst,ack meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
                		ip saddr . tcp dport . ip daddr @div4 socket transparent 1 meta mark set meta mark | 0x00000001 comment "ftpgate lease set"
                		ip6 saddr . tcp dport . ip6 daddr @div6 socket transparent 1 meta mark set meta mark | 0x00000001 comment "ftpgate lease set"
                		tcp dport 21 tproxy ip to :2121 meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
                		tcp dport 21 tproxy ip6 to :2121 meta mark set meta mark | 0x00000001 comment "ftpgate intercept table 100"
                	}
                }
                """);
        assertThat(rules.tableDefinition(null)).isEqualTo(rules.tableDefinition());
    }

    @Test
    void theReadmeShowsExactlyTheDefaultTableWithInterception() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        assertThat(readme).contains("```\n" + rules.tableDefinition(plain) + "```\n");
    }

    @Test
    void interfacesAndNetworksGiveOneRulePerPortInterfaceAndNetworkOfTheFamily() {
        Interception spec = new Interception(0x4, 7, List.of("eth0", "eth1"),
                List.of("198.51.100.7/24", "192.0.2.9/32", "2001:db8:1::5/64"), List.of(21, 990), 2121);
        List<String> tproxy = NftInterception.preroutingChain(spec).lines().filter(l -> l.contains("tproxy")).map(String::strip).toList();
        assertThat(tproxy).hasSize(2 * 2 * 2 + 2 * 2 * 1).contains(
                "iifname \"eth1\" ip saddr 192.0.2.9 tcp dport 990 tproxy ip to :2121 meta mark set meta mark | 0x00000004 comment \"ftpgate intercept table 7\"",
                "iifname \"eth0\" ip6 saddr 2001:db8:1::/64 tcp dport 21 tproxy ip6 to :2121 meta mark set meta mark | 0x00000004 comment \"ftpgate intercept table 7\"",
                "iifname \"eth0\" ip saddr 198.51.100.0/24 tcp dport 21 tproxy ip to :2121 meta mark set meta mark | 0x00000004 comment \"ftpgate intercept table 7\"");
        assertThat(NftInterception.inputRules(spec, 0x00800000L)).containsExactly(
                "tcp dport 21 meta mark & 0x00000004 == 0x00000004 ct state new meta mark set meta mark | 0x00800000 comment \"ftpgate intercept table 7\"",
                "tcp dport 990 meta mark & 0x00000004 == 0x00000004 ct state new meta mark set meta mark | 0x00800000 comment \"ftpgate intercept table 7\"");
        Interception v4only = new Interception(0x4, 7, List.of(), List.of("198.51.100.0/24"), List.of(21), 2121);
        assertThat(NftInterception.preroutingChain(v4only)).doesNotContain("tproxy ip6");
    }

    @Test
    void aDivertedLeaseIsAnElementOfTheDiversionsAndOfTheLeases() throws Exception {
        DataLease diverted = new DataLease(9, Direction.INBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 40001, true);
        assertThat(rules.change(LeaseChange.apply(diverted), 8)).isEqualTo(
                "add element inet ftpgate div4 { 198.51.100.2 . 40001 . 203.0.113.2 timeout 8s };"
                        + " add element inet ftpgate in4 { 198.51.100.2 . 40001 . 203.0.113.2 timeout 8s }");
        assertThat(rules.change(LeaseChange.revoke(diverted), 8)).isEqualTo(
                "add element inet ftpgate div4 { 198.51.100.2 . 40001 . 203.0.113.2 timeout 1s };"
                        + " delete element inet ftpgate div4 { 198.51.100.2 . 40001 . 203.0.113.2 };"
                        + " add element inet ftpgate in4 { 198.51.100.2 . 40001 . 203.0.113.2 timeout 1s };"
                        + " delete element inet ftpgate in4 { 198.51.100.2 . 40001 . 203.0.113.2 }");
        DataLease outbound = new DataLease(9, Direction.OUTBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 20, true);
        assertThat(NftRules.setsOf(outbound)).containsExactly("out4");
    }

    @Test
    void aFreshProcessFindsTheRoutingToRemoveInTheListedTable() {
        Interception other = new Interception(0x20, 42, List.of(), List.of(), List.of(21, 990), 2121);
        assertThat(NftInterception.routingOf(rules.tableDefinition(plain))).containsExactly(List.of(0x1, 100));
        assertThat(NftInterception.routingOf(rules.tableDefinition(other))).containsExactly(List.of(0x20, 42));
        assertThat(NftInterception.routingOf(rules.tableDefinition())).isEmpty();
    }

    @Test
    void theRoutingIsTheSameAsTheIptablesBackends() {
        assertThat(TproxyRouting.addIpRule(0x1, 100, false)).containsExactly("-4", "rule", "add", "fwmark", "0x1/0x1", "lookup", "100");
        assertThat(TproxyRouting.replaceLocalRoute(100, true))
                .containsExactly("-6", "route", "replace", "local", "::/0", "dev", "lo", "table", "100");
        assertThat(TproxyRouting.isIpRule("32765:\tfrom all fwmark 0x1/0x1 lookup 100 ", 0x1, 100)).isTrue();
        assertThat(TproxyRouting.isIpRule("32765:\tfrom all fwmark 0x1/0x1 lookup 101", 0x1, 100)).isFalse();
    }

    @Test
    void networksAreWrittenAsNftPrintsThem() {
        assertThat(NftInterception.canonicalNetwork("198.51.100.7/24")).isEqualTo("198.51.100.0/24");
        assertThat(NftInterception.canonicalNetwork("198.51.100.7")).isEqualTo("198.51.100.7");
        assertThat(NftInterception.canonicalNetwork("2001:db8:1::5/128")).isEqualTo("2001:db8:1::5");
        assertThatThrownBy(() -> NftInterception.canonicalNetwork("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
