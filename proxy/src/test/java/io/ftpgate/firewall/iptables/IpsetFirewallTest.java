package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.iptables.IptablesFirewallTest.ScriptedRunner;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ipset backend's decisions: one-shot commands against a scripted runner, lease lines against
 * a recording channel. The real ipset and iptables are in IpsetFirewallIT.
 */
class IpsetFirewallTest {

    private static final String NS = "ip netns exec ns ";
    private static final Interception SPEC = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);

    private final ScriptedRunner runner = new ScriptedRunner();
    private final RecordingChannel channel = new RecordingChannel();

    private IpsetFirewall firewall(boolean guardOutput) {
        return new IpsetFirewall("FTPGATE", List.of("ip", "netns", "exec", "ns"), "iptables", "ip6tables", "ipset", "ip",
                Duration.ofSeconds(5), guardOutput, Duration.ofMillis(7_500), runner, channel);
    }

    @Test
    void startOnACleanHostCreatesTheSetsThenTheChainsThenOneStaticRulePerFamily() throws Exception {
        assertThat(firewall(false).start()).isZero();
        List<String> lines = runner.lines();
        assertThat(lines.subList(0, 7)).containsExactly(
                NS + "ipset list -name",
                NS + "ipset -exist create FTPGATE-in4 hash:ip,port,ip family inet timeout 0 maxelem 262144",
                NS + "ipset -exist create FTPGATE-in6 hash:ip,port,ip family inet6 timeout 0 maxelem 262144",
                NS + "ipset -exist create FTPGATE-out4 hash:ip,port,ip family inet timeout 0 maxelem 262144",
                NS + "ipset -exist create FTPGATE-out6 hash:ip,port,ip family inet6 timeout 0 maxelem 262144",
                NS + "ipset -exist create FTPGATE-divert4 hash:ip,port,ip family inet timeout 0 maxelem 262144",
                NS + "ipset -exist create FTPGATE-divert6 hash:ip,port,ip family inet6 timeout 0 maxelem 262144");
        assertThat(lines).contains(NS + "iptables -w 5 -N FTPGATE-IN", NS + "ip6tables -w 5 -N FTPGATE-IN");
        assertThat(lines).filteredOn(l -> l.contains("--match-set")).containsExactly(
                NS + "iptables -w 5 -A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate lease set\" -j ACCEPT",
                NS + "ip6tables -w 5 -A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in6 src,dst,dst"
                        + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate lease set\" -j ACCEPT");
        assertThat(channel.batches).as("start needs no lease line").isEmpty();
    }

    @Test
    void startCountsAndFlushesTheEntriesOfAnEarlierRunAndKeepsItsStaticRules() throws Exception {
        runner.output("ipset list -name", "FTPGATE-in4\nFTPGATE-divert4\nsomeone-else\n");
        runner.output("list -terse FTPGATE-in4", "Name: FTPGATE-in4\nNumber of entries: 2\n");
        runner.output("list -terse FTPGATE-divert4", "Name: FTPGATE-divert4\nNumber of entries: 1\n");
        runner.listing("iptables", """
                -N FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst -m conntrack --ctstate NEW -m comment --comment "ftpgate lease set" -j ACCEPT
                """);

        assertThat(firewall(false).start()).as("entries of the earlier run; its static rule is no orphan").isEqualTo(3);
        assertThat(runner.lines()).contains(NS + "ipset flush FTPGATE-in4", NS + "ipset flush FTPGATE-divert4")
                .doesNotContain(NS + "ipset flush someone-else", NS + "iptables -w 5 -F FTPGATE-IN");
        assertThat(runner.lines()).filteredOn(l -> l.startsWith(NS + "iptables") && l.contains("--match-set"))
                .as("the static rule is there already").isEmpty();
    }

    @Test
    void aLeaseIsOneAcknowledgedLineWithTheEntryLifetimeInWholeSeconds() throws Exception {
        IpsetFirewall firewall = firewall(false);
        firewall.start();
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        firewall.apply(lease);
        firewall.revoke(lease);
        assertThat(channel.batches).containsExactly(
                List.of("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 8"),
                List.of("del FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1"));
    }

    @Test
    void outboundLeasesNeedAnEntryOnlyWhenOutputIsGuarded() throws Exception {
        DataLease lease = new DataLease(17, Direction.OUTBOUND, ip("2001:db8:2::2"), ip("2001:db8:2::1"), 20);
        IpsetFirewall unguarded = firewall(false);
        unguarded.start();
        unguarded.apply(lease);
        assertThat(channel.batches).isEmpty();

        IpsetFirewall guarded = firewall(true);
        guarded.start();
        guarded.apply(lease);
        assertThat(channel.batches).containsExactly(List.of("add FTPGATE-out6 2001:db8:2::2,tcp:20,2001:db8:2::1 timeout 8"));
        assertThat(runner.lines()).contains(NS + "ip6tables -w 5 -A FTPGATE-OUT -p tcp -m set --match-set FTPGATE-out6"
                + " dst,dst,src -m conntrack --ctstate NEW -m comment --comment \"ftpgate lease set\" -j ACCEPT");
    }

    @Test
    void aFailedApplyIsUndoneAndNamesTheLeaseAndIpsetsWords() throws Exception {
        IpsetFirewall firewall = firewall(false);
        firewall.start();
        channel.failNext("ipset did not acknowledge add ... within 5000 ms");
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("session 17 inbound tcp 198.51.100.2 -> 198.51.100.1:40001")
                .hasMessageContaining("did not acknowledge");
        assertThat(channel.batches.get(1)).as("the undo").containsExactly("del FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1");
    }

    @Test
    void anApplyWhoseAcknowledgementTimedOutSaysWhetherTheUndoWorked() throws Exception {
        IpsetFirewall firewall = firewall(false);
        firewall.start();
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        channel.failNext(new FirewallException("ipset did not acknowledge add", null, FirewallException.Residue.NONE, true));
        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE);
            assertThat(e.timedOut()).isTrue();
        });

        channel.failNext(new FirewallException("ipset did not acknowledge add", null, FirewallException.Residue.NONE, true),
                new FirewallException("ipset did not acknowledge del"));
        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.residue()).as("the entry may be in force").isEqualTo(FirewallException.Residue.POSSIBLE);
            assertThat(e.getSuppressed()).singleElement().asString().contains("acknowledge del");
        });
    }

    @Test
    void aDivertedLeaseNeedsTheInterceptionAndIsTwoEntriesInOneBatch() throws Exception {
        IpsetFirewall firewall = firewall(false);
        firewall.start();
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 40001, true);
        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("needs intercept() first");

        runner.listing("iptables", "-N FTPGATE-IN\n-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN\n");
        runner.listing("ip6tables", "-N FTPGATE-IN\n-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN\n");
        firewall.intercept(SPEC);
        assertThat(runner.lines()).contains(NS + "iptables -w 5 -t mangle -A FTPGATE-DIVERT -p tcp -m set --match-set"
                + " FTPGATE-divert4 src,dst,dst -m socket --transparent -m comment --comment \"ftpgate lease set\""
                + " -j MARK --set-xmark 0x1/0x1");
        firewall.apply(lease);
        firewall.revoke(lease);
        assertThat(channel.batches).containsExactly(
                List.of("add FTPGATE-divert4 198.51.100.2,tcp:40001,203.0.113.2 timeout 8",
                        "add FTPGATE-in4 198.51.100.2,tcp:40001,203.0.113.2 timeout 8"),
                List.of("del FTPGATE-divert4 198.51.100.2,tcp:40001,203.0.113.2",
                        "del FTPGATE-in4 198.51.100.2,tcp:40001,203.0.113.2"));
    }

    @Test
    void ipv6LeasesFailWhenIp6tablesIsUnusable() throws Exception {
        runner.unusable("ip6tables", 255, "exec of \"ip6tables\" failed: No such file or directory");
        IpsetFirewall firewall = firewall(false);
        firewall.start();
        DataLease lease = new DataLease(17, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40001);
        assertThatThrownBy(() -> firewall.apply(lease)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("IPv6 leases are disabled");
        assertThat(channel.batches).isEmpty();
    }

    @Test
    void stopRemovesTheChainsThenDestroysOnlyFtpgatesSetsAndEndsTheChannel() throws Exception {
        runner.listing("iptables", """
                -N FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst -m conntrack --ctstate NEW -m comment --comment "ftpgate lease set" -j ACCEPT
                """);
        runner.output("ipset list -name", "FTPGATE-in4\nFTPGATE-in6\nsomeone-else\n");
        firewall(false).stop();
        List<String> lines = runner.lines();
        assertThat(lines).containsSubsequence(NS + "iptables -w 5 -X FTPGATE-IN", NS + "ipset destroy FTPGATE-in4",
                NS + "ipset destroy FTPGATE-in6");
        assertThat(lines).doesNotContain(NS + "ipset destroy someone-else");
        assertThat(channel.closed).isTrue();
    }

    @Test
    void describeInterceptAddsTheStaticDivertRules() {
        List<String> lines = firewall(false).describeIntercept(SPEC);
        assertThat(lines).contains(NS + "ip6tables -w 5 -t mangle -A FTPGATE-DIVERT -p tcp -m set --match-set"
                + " FTPGATE-divert6 src,dst,dst -m socket --transparent -m comment --comment \"ftpgate lease set\""
                + " -j MARK --set-xmark 0x1/0x1");
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    /** Records each batch; can fail the next one. */
    private static final class RecordingChannel extends IpsetChannel {
        final List<List<String>> batches = new ArrayList<>();
        boolean closed;
        private final java.util.ArrayDeque<FirewallException> failures = new java.util.ArrayDeque<>();

        RecordingChannel() {
            super(List.of("unused"), new IpsetRules(new IptablesRules("FTPGATE")), Duration.ofSeconds(5), new CommandRunner());
        }

        void failNext(String message) {
            failNext(new FirewallException(message));
        }

        /** The next batches fail with these, one each. */
        void failNext(FirewallException... next) {
            failures.addAll(List.of(next));
        }

        @Override
        void execute(List<String> lines) throws FirewallException {
            batches.add(List.copyOf(lines));
            FirewallException failure = failures.poll();
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
