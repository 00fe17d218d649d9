package io.ftpgate.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.iptables.ForwardRules.Chain;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden lines of the kernel path: if one of these changes, the README and the class Javadoc change with it. */
class ForwardRulesTest {

    private final ForwardRules rules = new ForwardRules(new IptablesRules("FTPGATE"));

    @Test
    void ipv4LeaseIsFourRulesAddedForwardFirstAndTranslationLast() throws Exception {
        ForwardLease lease = new ForwardLease(17, ip("198.51.100.2"), ip("198.51.100.1"), 40017,
                ip("203.0.113.2"), 30000, ip("203.0.113.1"));
        assertThat(lines(rules.append(lease))).containsExactly(
                "-w 5 -t filter -A FTPGATE-FWD -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000"
                        + " -m conntrack --ctstate NEW --ctorigdst 198.51.100.1 --ctorigdstport 40017"
                        + " -m comment --comment \"ftpgate session 17\" -j ACCEPT",
                "-w 5 -t nat -A FTPGATE-SNAT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000"
                        + " -m conntrack --ctstate DNAT --ctorigdst 198.51.100.1 --ctorigdstport 40017"
                        + " -m comment --comment \"ftpgate session 17\" -j SNAT --to-source 203.0.113.1",
                "-w 5 -t nat -A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017"
                        + " -m recent --rcheck --name FTPGATE-17-40017 --rsource"
                        + " -m comment --comment \"ftpgate session 17\" -j RETURN",
                "-w 5 -t nat -A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017"
                        + " -m recent --set --name FTPGATE-17-40017 --rsource"
                        + " -m comment --comment \"ftpgate session 17\" -j DNAT --to-destination 203.0.113.2:30000");
    }

    @Test
    void revokeDeletesTheTranslationFirst() throws Exception {
        ForwardLease lease = new ForwardLease(17, ip("198.51.100.2"), ip("198.51.100.1"), 40017,
                ip("203.0.113.2"), 30000, ip("203.0.113.1"));
        List<String> deleted = lines(rules.delete(lease));
        List<String> added = lines(rules.append(lease));
        assertThat(deleted).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(deleted.get(i)).isEqualTo(added.get(3 - i).replace(" -A ", " -D "));
        }
        assertThat(deleted.get(0)).contains("-j DNAT");
    }

    @Test
    void aLeaseIsOneRestoreBatchEachWayTheFilterRuleInFirstAndOutLast() throws Exception {
        ForwardLease lease = new ForwardLease(17, ip("198.51.100.2"), ip("198.51.100.1"), 40017,
                ip("203.0.113.2"), 30000, ip("203.0.113.1"));
        assertThat(ForwardRules.restoreArguments()).containsExactly("-w", "5", "--noflush");
        assertThat(ForwardRules.restoreInput(rules.append(lease))).isEqualTo(String.join("\n",
                "*filter",
                "-A FTPGATE-FWD -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate NEW"
                        + " --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment \"ftpgate session 17\" -j ACCEPT",
                "COMMIT",
                "*nat",
                "-A FTPGATE-SNAT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate DNAT"
                        + " --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment \"ftpgate session 17\""
                        + " -j SNAT --to-source 203.0.113.1",
                "-A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --rcheck"
                        + " --name FTPGATE-17-40017 --rsource -m comment --comment \"ftpgate session 17\" -j RETURN",
                "-A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --set"
                        + " --name FTPGATE-17-40017 --rsource -m comment --comment \"ftpgate session 17\""
                        + " -j DNAT --to-destination 203.0.113.2:30000",
                "COMMIT",
                ""));
        assertThat(ForwardRules.restoreInput(rules.delete(lease)))
                .startsWith("*nat\n-D FTPGATE-DNAT ").contains("COMMIT\n*filter\n-D FTPGATE-FWD ").endsWith("COMMIT\n");
    }

    @Test
    void ipv6LeaseBracketsTheTranslatedAddress() throws Exception {
        ForwardLease lease = new ForwardLease(9, ip("2001:db8:1:0:0:0:0:2"), ip("2001:db8:1::1"), 40001,
                ip("2001:db8:2::2"), 30001, ip("2001:db8:2::1"));
        List<String> added = lines(rules.append(lease));
        assertThat(added.get(0)).isEqualTo("-w 5 -t filter -A FTPGATE-FWD -s 2001:db8:1::2/128 -d 2001:db8:2::2/128"
                + " -p tcp -m tcp --dport 30001 -m conntrack --ctstate NEW --ctorigdst 2001:db8:1::1 --ctorigdstport 40001"
                + " -m comment --comment \"ftpgate session 9\" -j ACCEPT");
        assertThat(added.get(1)).endsWith("-j SNAT --to-source 2001:db8:2::1");
        assertThat(added.get(3)).isEqualTo("-w 5 -t nat -A FTPGATE-DNAT -s 2001:db8:1::2/128 -d 2001:db8:1::1/128"
                + " -p tcp -m tcp --dport 40001 -m recent --set --name FTPGATE-9-40001 --rsource"
                + " -m comment --comment \"ftpgate session 9\" -j DNAT --to-destination [2001:db8:2::2]:30001");
    }

    @Test
    void staticRuleAcceptsEstablishedFlowsOfTranslatedConnectionsToTheDataPorts() {
        assertThat(IptablesRules.commandLine(rules.appendStatic(40000, 40999))).isEqualTo(
                "-w 5 -t filter -A FTPGATE-FWD -m conntrack --ctstate RELATED,ESTABLISHED"
                        + " -m conntrack --ctstate DNAT --ctproto 6 --ctorigdstport 40000:40999"
                        + " -m comment --comment \"ftpgate kernel path\" -j ACCEPT");
    }

    @Test
    void chainsAndJumps() {
        assertThat(IptablesRules.commandLine(rules.newChain(Chain.DNAT))).isEqualTo("-w 5 -t nat -N FTPGATE-DNAT");
        assertThat(IptablesRules.commandLine(rules.insertJump(Chain.DNAT))).isEqualTo("-w 5 -t nat -I PREROUTING 1 -j FTPGATE-DNAT");
        assertThat(IptablesRules.commandLine(rules.insertJump(Chain.SNAT))).isEqualTo("-w 5 -t nat -I POSTROUTING 1 -j FTPGATE-SNAT");
        assertThat(IptablesRules.commandLine(rules.insertJump(Chain.FWD))).isEqualTo("-w 5 -t filter -I FORWARD 1 -j FTPGATE-FWD");
        assertThat(IptablesRules.commandLine(rules.deleteJump(Chain.FWD))).isEqualTo("-w 5 -t filter -D FORWARD -j FTPGATE-FWD");
        assertThat(IptablesRules.commandLine(rules.listTable("nat", true))).isEqualTo("-w 5 -t nat -S -v");
        assertThat(rules.jumpLine(Chain.SNAT)).isEqualTo("-A POSTROUTING -j FTPGATE-SNAT");
    }

    private static List<String> lines(List<List<String>> commands) {
        return commands.stream().map(IptablesRules::commandLine).toList();
    }

    private static InetAddress ip(String text) throws UnknownHostException {
        return InetAddress.getByName(text);
    }
}
