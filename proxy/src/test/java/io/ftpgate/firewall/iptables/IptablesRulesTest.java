package io.ftpgate.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Golden lines: if one of these changes, the README and the class Javadoc change with it. */
class IptablesRulesTest {

    private final IptablesRules rules = new IptablesRules("FTPGATE");

    @Test
    void inboundIpv4Lease() throws Exception {
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        assertThat(rules.appendLease(lease)).containsExactly("-w", "5", "-A", "FTPGATE-IN",
                "-s", "198.51.100.2/32", "-d", "198.51.100.1/32", "-p", "tcp", "-m", "tcp", "--dport", "40001",
                "-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "ftpgate session 17",
                "-j", "ACCEPT");
        assertThat(IptablesRules.commandLine(rules.deleteLease(lease))).isEqualTo(
                "-w 5 -D FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT");
        assertThat(rules.listedLine(lease)).isEqualTo(
                "-A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT");
    }

    @Test
    void aBatchIsOneFilterTransactionOfTheSameRulesWithoutTheLockWait() throws Exception {
        DataLease a = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        DataLease b = new DataLease(18, Direction.INBOUND, ip("198.51.100.3"), ip("198.51.100.1"), 40002);
        assertThat(IptablesRules.restoreInput(List.of(rules.appendLease(a), rules.deleteLease(b)))).isEqualTo("""
                *filter
                -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
                -D FTPGATE-IN -s 198.51.100.3/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40002 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 18" -j ACCEPT
                COMMIT
                """);
        assertThat(IptablesRules.restoreArguments()).containsExactly("-w", "5", "--noflush");
        assertThat(IptablesRules.restoreBinary("ip6tables-legacy")).isEqualTo("ip6tables-legacy-restore");
    }

    @Test
    void outboundIpv4LeaseGoesFromLocalToPeer() throws Exception {
        DataLease lease = new DataLease(17, Direction.OUTBOUND, ip("203.0.113.2"), ip("203.0.113.1"), 20);
        assertThat(IptablesRules.commandLine(rules.appendLease(lease))).isEqualTo(
                "-w 5 -A FTPGATE-OUT -s 203.0.113.1/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 20"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT");
        assertThat(IptablesRules.commandLine(rules.deleteLease(lease))).isEqualTo(
                "-w 5 -D FTPGATE-OUT -s 203.0.113.1/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 20"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT");
    }

    @Test
    void inboundIpv6Lease() throws Exception {
        DataLease lease = new DataLease(9, Direction.INBOUND, ip("2001:db8:1:0:0:0:0:2"), ip("2001:db8:1::1"), 65535);
        assertThat(IptablesRules.commandLine(rules.appendLease(lease))).isEqualTo(
                "-w 5 -A FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128 -p tcp -m tcp --dport 65535"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 9\" -j ACCEPT");
    }

    @Test
    void outboundIpv6Lease() throws Exception {
        DataLease lease = new DataLease(9, Direction.OUTBOUND, ip("2001:db8:2::2"), ip("2001:db8:2::1"), 1);
        assertThat(IptablesRules.commandLine(rules.deleteLease(lease))).isEqualTo(
                "-w 5 -D FTPGATE-OUT -s 2001:db8:2::1/128 -d 2001:db8:2::2/128 -p tcp -m tcp --dport 1"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 9\" -j ACCEPT");
    }

    @Test
    void chainsAndJumps() {
        assertThat(rules.newChain(Hook.IN)).containsExactly("-w", "5", "-N", "FTPGATE-IN");
        assertThat(rules.flushChain(Hook.IN)).containsExactly("-w", "5", "-F", "FTPGATE-IN");
        assertThat(rules.deleteChain(Hook.OUT)).containsExactly("-w", "5", "-X", "FTPGATE-OUT");
        assertThat(rules.listChain(Hook.IN)).containsExactly("-w", "5", "-S", "FTPGATE-IN");
        assertThat(rules.listTable()).containsExactly("-w", "5", "-S");
        assertThat(rules.checkJump(Hook.IN)).containsExactly("-w", "5", "-C", "INPUT", "-m", "conntrack", "--ctstate", "NEW",
                "-j", "FTPGATE-IN");
        assertThat(rules.insertJump(Hook.IN)).containsExactly("-w", "5", "-I", "INPUT", "1", "-m", "conntrack", "--ctstate",
                "NEW", "-j", "FTPGATE-IN");
        assertThat(rules.deleteJump(Hook.IN)).containsExactly("-w", "5", "-D", "INPUT", "-m", "conntrack", "--ctstate", "NEW",
                "-j", "FTPGATE-IN");
        assertThat(rules.insertJump(Hook.OUT)).containsExactly("-w", "5", "-I", "OUTPUT", "1", "-m", "conntrack", "--ctstate",
                "NEW", "-j", "FTPGATE-OUT");
        assertThat(rules.jumpLine(Hook.OUT)).isEqualTo("-A OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT");
        assertThat(rules.oldJumpLine(Hook.IN)).isEqualTo("-A INPUT -j FTPGATE-IN");
        assertThat(rules.deleteOldJump(Hook.IN)).containsExactly("-w", "5", "-D", "INPUT", "-j", "FTPGATE-IN");
        assertThat(rules.chainLine(Hook.IN)).isEqualTo("-N FTPGATE-IN");
    }

    @Test
    void prefixNamesTheChains() {
        assertThat(new IptablesRules("FG_test-1").chain(Hook.OUT)).isEqualTo("FG_test-1-OUT");
    }

    @Test
    void rejectsPrefixesIptablesWouldNotAccept() {
        for (String bad : List.of("", "has space", "x".repeat(25), "semi;colon")) {
            assertThatThrownBy(() -> new IptablesRules(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @ParameterizedTest
    @CsvSource({
        "2001:db8:0:0:0:0:0:1, 2001:db8::1",
        "0:0:0:0:0:0:0:1, ::1",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:1:2:3:4:5:0, 2001:db8:1:2:3:4:5:0",
        "2001:db8:0:1:2:3:4:5, 2001:db8:0:1:2:3:4:5",
        "fe80:0:0:0:0:0:0:0, fe80::",
        "2001:DB8:1::AB, 2001:db8:1::ab",
    })
    void ipv6AddressesAreWrittenAsIptablesListsThem(String given, String written) throws Exception {
        assertThat(IptablesRules.address(ip(given))).isEqualTo(written);
    }

    @Test
    void ipv6ZoneIsDropped() throws Exception {
        assertThat(IptablesRules.address(ip("fe80::1%1"))).isEqualTo("fe80::1");
    }

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }
}
