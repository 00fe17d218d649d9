package io.ftpgate.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.Interception;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Golden lines of interception: if one changes, the TproxyRules Javadoc changes with it. */
class TproxyRulesTest {

    private static final Interception SPEC = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);

    private final TproxyRules tproxy = new TproxyRules(new IptablesRules("FTPGATE"));

    @Test
    void interceptChainIpv4() {
        assertThat(listed(tproxy.appendInterceptRules(SPEC, false))).containsExactly(
                "-A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN"
                        + " -m comment --comment \"ftpgate intercept table 100\" -j MARK --set-xmark 0x1/0x1",
                "-A FTPGATE-TPROXY -j FTPGATE-DIVERT",
                "-A FTPGATE-TPROXY -p tcp -m tcp --dport 21 -m comment --comment \"ftpgate intercept table 100\""
                        + " -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1");
        assertThat(tproxy.appendInterceptRules(SPEC, false).get(1))
                .containsExactly("-w", "5", "-t", "mangle", "-A", "FTPGATE-TPROXY", "-j", "FTPGATE-DIVERT");
    }

    @Test
    void interceptChainIpv6() {
        assertThat(listed(tproxy.appendInterceptRules(SPEC, true))).last().isEqualTo(
                "-A FTPGATE-TPROXY -p tcp -m tcp --dport 21 -m comment --comment \"ftpgate intercept table 100\""
                        + " -j TPROXY --on-port 2121 --on-ip :: --tproxy-mark 0x1/0x1");
    }

    @Test
    void oneTproxyRulePerPortInterfaceAndNetworkOfTheFamily() {
        Interception spec = new Interception(0x10, 42, List.of("eth0", "eth1"),
                List.of("198.51.100.7/24", "2001:db8:1::9/64"), List.of(21, 990), 2121);
        assertThat(listed(tproxy.appendInterceptRules(spec, false))).containsExactly(
                "-A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN"
                        + " -m comment --comment \"ftpgate intercept table 42\" -j MARK --set-xmark 0x10/0x10",
                "-A FTPGATE-TPROXY -j FTPGATE-DIVERT",
                "-A FTPGATE-TPROXY -s 198.51.100.0/24 -i eth0 -p tcp -m tcp --dport 21 -m comment --comment"
                        + " \"ftpgate intercept table 42\" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x10/0x10",
                "-A FTPGATE-TPROXY -s 198.51.100.0/24 -i eth1 -p tcp -m tcp --dport 21 -m comment --comment"
                        + " \"ftpgate intercept table 42\" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x10/0x10",
                "-A FTPGATE-TPROXY -s 198.51.100.0/24 -i eth0 -p tcp -m tcp --dport 990 -m comment --comment"
                        + " \"ftpgate intercept table 42\" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x10/0x10",
                "-A FTPGATE-TPROXY -s 198.51.100.0/24 -i eth1 -p tcp -m tcp --dport 990 -m comment --comment"
                        + " \"ftpgate intercept table 42\" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x10/0x10");
        assertThat(listed(tproxy.appendInterceptRules(spec, true))).element(2).isEqualTo(
                "-A FTPGATE-TPROXY -s 2001:db8:1::/64 -i eth0 -p tcp -m tcp --dport 21 -m comment --comment"
                        + " \"ftpgate intercept table 42\" -j TPROXY --on-port 2121 --on-ip :: --tproxy-mark 0x10/0x10");
    }

    @Test
    void networksOfOnlyOneFamilyInterceptNothingOfTheOther() {
        Interception spec = new Interception(0x1, 100, List.of(), List.of("198.51.100.0/24"), List.of(21), 2121);
        assertThat(listed(tproxy.appendInterceptRules(spec, true))).hasSize(2).noneMatch(l -> l.contains("TPROXY --on-port"));
    }

    @Test
    void filterAcceptRulesComeFirstInTheInChain() {
        Interception spec = new Interception(0x1, 100, List.of(), List.of(), List.of(21, 990), 2121);
        List<List<String>> accept = tproxy.insertAcceptRules(spec);
        assertThat(IptablesRules.commandLine(accept.get(1))).isEqualTo(
                "-w 5 -I FTPGATE-IN 2 -p tcp -m tcp --dport 990 -m mark --mark 0x1/0x1 -m conntrack --ctstate NEW"
                        + " -m comment --comment \"ftpgate intercept table 100\" -j ACCEPT");
        assertThat(listed(accept)).containsExactly(
                "-A FTPGATE-IN -p tcp -m tcp --dport 21 -m mark --mark 0x1/0x1 -m conntrack --ctstate NEW"
                        + " -m comment --comment \"ftpgate intercept table 100\" -j ACCEPT",
                "-A FTPGATE-IN -p tcp -m tcp --dport 990 -m mark --mark 0x1/0x1 -m conntrack --ctstate NEW"
                        + " -m comment --comment \"ftpgate intercept table 100\" -j ACCEPT");
        assertThat(tproxy.deleteInRule(2)).containsExactly("-w", "5", "-D", "FTPGATE-IN", "2");
    }

    @Test
    void divertLeaseIpv4AndIpv6() throws Exception {
        DataLease v4 = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 40001, true);
        assertThat(IptablesRules.commandLine(tproxy.appendDivert(v4, 1))).isEqualTo(
                "-w 5 -t mangle -A FTPGATE-DIVERT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 40001"
                        + " -m comment --comment \"ftpgate session 17\" -j TPROXY --on-port 40001 --on-ip 203.0.113.2"
                        + " --tproxy-mark 0x1/0x1");
        assertThat(IptablesRules.commandLine(tproxy.deleteDivert(v4, 1))).startsWith(
                "-w 5 -t mangle -D FTPGATE-DIVERT -s 198.51.100.2/32 -d 203.0.113.2/32");
        DataLease v6 = new DataLease(18, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:2::2"), 40002, true);
        assertThat(TproxyRules.listed(tproxy.appendDivert(v6, 1))).isEqualTo(
                "-A FTPGATE-DIVERT -s 2001:db8:1::2/128 -d 2001:db8:2::2/128 -p tcp -m tcp --dport 40002"
                        + " -m comment --comment \"ftpgate session 18\" -j TPROXY --on-port 40002 --on-ip 2001:db8:2::2"
                        + " --tproxy-mark 0x1/0x1");
    }

    @Test
    void chainsJumpsAndListing() {
        assertThat(tproxy.newChain(tproxy.interceptChain())).containsExactly("-w", "5", "-t", "mangle", "-N", "FTPGATE-TPROXY");
        assertThat(tproxy.flushChain(tproxy.divertChain())).containsExactly("-w", "5", "-t", "mangle", "-F", "FTPGATE-DIVERT");
        assertThat(tproxy.deleteChain(tproxy.divertChain())).containsExactly("-w", "5", "-t", "mangle", "-X", "FTPGATE-DIVERT");
        assertThat(tproxy.insertJump()).containsExactly("-w", "5", "-t", "mangle", "-I", "PREROUTING", "1", "-j", "FTPGATE-TPROXY");
        assertThat(tproxy.deleteJump()).containsExactly("-w", "5", "-t", "mangle", "-D", "PREROUTING", "-j", "FTPGATE-TPROXY");
        assertThat(tproxy.jumpLine()).isEqualTo("-A PREROUTING -j FTPGATE-TPROXY");
        assertThat(tproxy.listMangle()).containsExactly("-w", "5", "-t", "mangle", "-S");
    }

    @Test
    void routing() {
        assertThat(tproxy.addIpRule(1, 100, false)).containsExactly("-4", "rule", "add", "fwmark", "0x1/0x1", "lookup", "100");
        assertThat(tproxy.deleteIpRule(0x1f, 7, true)).containsExactly("-6", "rule", "del", "fwmark", "0x1f/0x1f", "lookup", "7");
        assertThat(tproxy.listIpRules(true)).containsExactly("-6", "rule", "show");
        assertThat(tproxy.replaceLocalRoute(100, false))
                .containsExactly("-4", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", "100");
        assertThat(tproxy.deleteLocalRoute(100, true))
                .containsExactly("-6", "route", "del", "local", "::/0", "dev", "lo", "table", "100");
        assertThat(TproxyRules.isIpRule("32765:\tfrom all fwmark 0x1/0x1 lookup 100 ", 1, 100)).isTrue();
        assertThat(TproxyRules.isIpRule("32765:\tfrom all fwmark 0x1/0x1 lookup 1000", 1, 100)).isFalse();
        assertThat(TproxyRules.isIpRule("32765:\tfrom all fwmark 0x11/0x11 lookup 100", 1, 100)).isFalse();
    }

    @Test
    void markAndTableAreReadBackFromListedLines() {
        String line = listed(tproxy.appendInterceptRules(new Interception(0x20, 77, List.of(), List.of(), List.of(21), 2121), false)).get(0);
        assertThat(TproxyRules.markOf(line)).contains(0x20);
        assertThat(TproxyRules.tableOf(line)).contains(77);
        assertThat(TproxyRules.isInterceptLine(line)).isTrue();
        assertThat(TproxyRules.isInterceptLine("-A FTPGATE-IN -s 1.2.3.4/32 -m comment --comment \"ftpgate session 3\" -j ACCEPT")).isFalse();
    }

    @ParameterizedTest
    @CsvSource({
        "198.51.100.7/24, 198.51.100.0/24",
        "198.51.100.7, 198.51.100.7/32",
        "10.1.2.3/9, 10.0.0.0/9",
        "2001:db8:1::9/64, 2001:db8:1::/64",
        "2001:db8:1::9, 2001:db8:1::9/128",
        "0.0.0.0/0, 0.0.0.0/0",
    })
    void networksAreWrittenAsIptablesListsThem(String given, String written) {
        assertThat(TproxyRules.canonicalNetwork(given)).isEqualTo(written);
    }

    private static List<String> listed(List<List<String>> commands) {
        return commands.stream().map(TproxyRules::listed).toList();
    }

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }
}
