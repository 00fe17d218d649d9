package io.ftpgate.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Golden lines of the ipset backend: the ones in IpsetRules' Javadoc and the README. */
class IpsetRulesTest {

    private final IpsetRules rules = new IpsetRules(new IptablesRules("FTPGATE"));

    @Test
    void setsAreCreatedIdempotentlyPerKindAndFamily() {
        assertThat(rules.allSets()).containsExactly("FTPGATE-in4", "FTPGATE-in6", "FTPGATE-out4", "FTPGATE-out6",
                "FTPGATE-divert4", "FTPGATE-divert6");
        assertThat(String.join(" ", rules.create(IpsetRules.Kind.IN, false)))
                .isEqualTo("-exist create FTPGATE-in4 hash:ip,port,ip family inet timeout 0 maxelem 262144");
        assertThat(String.join(" ", rules.create(IpsetRules.Kind.DIVERT, true)))
                .isEqualTo("-exist create FTPGATE-divert6 hash:ip,port,ip family inet6 timeout 0 maxelem 262144");
        assertThat(new IpsetRules(new IptablesRules("A23456789012345678901")).set(IpsetRules.Kind.DIVERT, true))
                .as("the longest prefix still fits ipset's 31 characters").hasSizeLessThanOrEqualTo(31);
    }

    @Test
    void aLeaseIsOneEntryWithItsTimeout() throws Exception {
        DataLease in = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        DataLease in6 = new DataLease(17, Direction.INBOUND, ip("2001:db8:1:0:0:0:0:2"), ip("2001:db8:1::1"), 40001);
        DataLease out = new DataLease(17, Direction.OUTBOUND, ip("203.0.113.2"), ip("203.0.113.1"), 20);
        assertThat(rules.addLines(in, 15)).containsExactly("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15");
        assertThat(rules.addLines(in6, 15)).containsExactly("add FTPGATE-in6 2001:db8:1::2,tcp:40001,2001:db8:1::1 timeout 15");
        assertThat(rules.addLines(out, 15)).containsExactly("add FTPGATE-out4 203.0.113.2,tcp:20,203.0.113.1 timeout 15");
        assertThat(rules.deleteLines(in)).containsExactly("del FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1");
    }

    @Test
    void aDivertedLeaseIsTheDivertEntryThenThePermission() throws Exception {
        DataLease divert = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 40001, true);
        assertThat(rules.addLines(divert, 15)).containsExactly(
                "add FTPGATE-divert4 198.51.100.2,tcp:40001,203.0.113.2 timeout 15",
                "add FTPGATE-in4 198.51.100.2,tcp:40001,203.0.113.2 timeout 15");
        assertThat(rules.deleteLines(divert)).containsExactly(
                "del FTPGATE-divert4 198.51.100.2,tcp:40001,203.0.113.2",
                "del FTPGATE-in4 198.51.100.2,tcp:40001,203.0.113.2");
        DataLease outbound = new DataLease(17, Direction.OUTBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 20, true);
        assertThat(rules.addLines(outbound, 15)).containsExactly("add FTPGATE-out4 198.51.100.2,tcp:20,203.0.113.2 timeout 15");
    }

    @Test
    void theStaticRulesAsIptablesListsThem() {
        assertThat(TproxyRules.listed(rules.appendFilterRule(Hook.IN, false))).isEqualTo(
                "-A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst -m conntrack --ctstate NEW"
                        + " -m comment --comment \"ftpgate lease set\" -j ACCEPT");
        assertThat(TproxyRules.listed(rules.appendFilterRule(Hook.OUT, true))).isEqualTo(
                "-A FTPGATE-OUT -p tcp -m set --match-set FTPGATE-out6 dst,dst,src -m conntrack --ctstate NEW"
                        + " -m comment --comment \"ftpgate lease set\" -j ACCEPT");
        assertThat(TproxyRules.listed(rules.appendDivertRule(false, 0x1))).isEqualTo(
                "-A FTPGATE-DIVERT -p tcp -m set --match-set FTPGATE-divert4 src,dst,dst -m socket --transparent"
                        + " -m comment --comment \"ftpgate lease set\" -j MARK --set-xmark 0x1/0x1");
        assertThat(String.join(" ", rules.deleteFilterRule(Hook.IN, false)))
                .startsWith("-w 5 -D FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst");
        assertThat(IpsetRules.isSetRule(TproxyRules.listed(rules.appendFilterRule(Hook.IN, false)))).isTrue();
        assertThat(IpsetRules.isSetRule("-A FTPGATE-IN -s 198.51.100.2/32 -m comment --comment \"ftpgate session 3\" -j ACCEPT")).isFalse();
    }

    @Test
    void theAcknowledgementIsATestWhoseAnswerCarriesTheBatchNumber() {
        assertThat(rules.sentinel(17)).isEqualTo("test FTPGATE-in4 127.0.0.1,tcp:17,127.0.0.1");
        assertThat(IpsetRules.acknowledged("127.0.0.1,tcp:17,127.0.0.1 is NOT in set FTPGATE-in4.")).isEqualTo(17);
        assertThat(IpsetRules.acknowledged("Warning: 127.0.0.1,tcp:65535,127.0.0.1 is in set FTPGATE-in4.")).isEqualTo(65535);
        assertThat(IpsetRules.acknowledged("ipset v7.17: Element cannot be added to the set: it's already added")).isEqualTo(-1);
        assertThat(IpsetRules.entries("Name: FTPGATE-in4\nType: hash:ip,port,ip\nNumber of entries: 12\n")).isEqualTo(12);
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
