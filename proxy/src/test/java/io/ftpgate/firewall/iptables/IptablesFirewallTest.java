package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.LeaseChange;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backend's decisions, against a scripted runner; the real commands are in IptablesFirewallIT. */
class IptablesFirewallTest {

    private static final String BAD_RULE = "iptables: Bad rule (does a matching rule exist in that chain?).\n";

    private final ScriptedRunner runner = new ScriptedRunner();

    private IptablesFirewall firewall(boolean guardOutput) {
        return new IptablesFirewall("FTPGATE", List.of("ip", "netns", "exec", "ns"), "iptables", "ip6tables",
                Duration.ofSeconds(5), guardOutput, runner);
    }

    @Test
    void startOnCleanTablesCreatesChainAndOneJumpPerFamily() throws Exception {
        assertThat(firewall(false).start()).isZero();
        assertThat(runner.lines()).containsExactly(
                "ip netns exec ns iptables -w 5 -S",
                "ip netns exec ns iptables -w 5 -N FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -I INPUT 1 -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -t mangle -S",
                "ip netns exec ns iptables -w 5 -t nat -S",
                "ip netns exec ns ip6tables -w 5 -S",
                "ip netns exec ns ip6tables -w 5 -t mangle -S",
                "ip netns exec ns ip6tables -w 5 -N FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -I INPUT 1 -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -t nat -S");
    }

    @Test
    void startWithGuardedOutputAlsoHooksOutput() throws Exception {
        runner.unusable("ip6tables", 255, "exec of \"ip6tables\" failed: No such file or directory");
        firewall(true).start();
        assertThat(runner.lines()).contains(
                "ip netns exec ns iptables -w 5 -N FTPGATE-OUT",
                "ip netns exec ns iptables -w 5 -I OUTPUT 1 -m conntrack --ctstate NEW -j FTPGATE-OUT");
    }

    @Test
    void startCountsAndFlushesOrphansAndKeepsExactlyOneJump() throws Exception {
        runner.listing("iptables", """
                -P INPUT DROP
                -N FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 3" -j ACCEPT
                -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40002 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 3" -j ACCEPT
                """);
        runner.listing("ip6tables", """
                -N FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 3" -j ACCEPT
                """);

        assertThat(firewall(false).start()).isEqualTo(3);
        assertThat(runner.lines()).containsExactly(
                "ip netns exec ns iptables -w 5 -S",
                "ip netns exec ns iptables -w 5 -F FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -t mangle -S",
                "ip netns exec ns iptables -w 5 -t nat -S",
                "ip netns exec ns ip6tables -w 5 -S",
                "ip netns exec ns ip6tables -w 5 -t mangle -S",
                "ip netns exec ns ip6tables -w 5 -F FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -D INPUT -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -D INPUT -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -t nat -S");
    }

    @Test
    void startRemovesAnOutputChainLeftByARunThatGuardedOutput() throws Exception {
        runner.unusable("ip6tables", 255, "exec failed");
        runner.listing("iptables", """
                -N FTPGATE-IN
                -N FTPGATE-OUT
                -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN
                -A OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT
                -A FTPGATE-OUT -s 203.0.113.1/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 20 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 4" -j ACCEPT
                """);
        assertThat(firewall(false).start()).isEqualTo(1);
        assertThat(runner.lines()).containsExactly(
                "ip netns exec ns iptables -w 5 -S",
                "ip netns exec ns iptables -w 5 -D OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT",
                "ip netns exec ns iptables -w 5 -F FTPGATE-OUT",
                "ip netns exec ns iptables -w 5 -X FTPGATE-OUT",
                "ip netns exec ns iptables -w 5 -t mangle -S",
                "ip netns exec ns iptables -w 5 -t nat -S",
                "ip netns exec ns ip6tables -w 5 -S");
    }

    @Test
    void aChainCreatedConcurrentlyIsFine() throws Exception {
        runner.fail("iptables -w 5 -N FTPGATE-IN", 1, "iptables: Chain already exists.\n");
        runner.unusable("ip6tables", 255, "exec failed");
        firewall(false).start();
        assertThat(runner.lines()).contains("ip netns exec ns iptables -w 5 -I INPUT 1 -m conntrack --ctstate NEW -j FTPGATE-IN");
    }

    @Test
    void ipv4FailureAtStartIsAnError() {
        runner.fail("iptables -w 5 -I INPUT 1 -m conntrack --ctstate NEW -j FTPGATE-IN", 4, "iptables: Resource temporarily unavailable.\n");
        assertThatThrownBy(() -> firewall(false).start()).isInstanceOf(FirewallException.class)
                .hasMessageContaining("ip netns exec ns iptables -w 5 -I INPUT 1 -m conntrack --ctstate NEW -j FTPGATE-IN")
                .hasMessageContaining("exit 4: iptables: Resource temporarily unavailable.");
    }

    @Test
    void missingIp6tablesDisablesIpv6LeasesOnly() throws Exception {
        runner.missing("ip6tables");
        IptablesFirewall firewall = new IptablesFirewall("FTPGATE", List.of(), "iptables", "ip6tables",
                Duration.ofSeconds(5), false, runner);
        assertThat(firewall.start()).isZero();
        assertThat(firewall.ipv6Enabled()).isFalse();

        assertThatThrownBy(() -> firewall.apply(v6Lease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("IPv6 leases are disabled");
        firewall.apply(v4Lease());
        assertThat(runner.lines()).last().asString().startsWith("iptables -w 5 -A FTPGATE-IN");
    }

    @Test
    void unusableIpv6TablesDisableIpv6Leases() throws Exception {
        runner.unusable("ip6tables", 3, "ip6tables v1.8.9 (legacy): can't initialize ip6tables table `filter': "
                + "Table does not exist (do you need to insmod?)\n");
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        assertThat(firewall.ipv6Enabled()).isFalse();
        assertThatThrownBy(() -> firewall.revoke(v6Lease())).isInstanceOf(FirewallException.class);
    }

    @Test
    void applyRunsTheGoldenRuleWithTheRightBinary() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        firewall.apply(v4Lease());
        firewall.apply(v6Lease());
        assertThat(runner.lines()).containsExactly(
                "ip netns exec ns iptables -w 5 -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp"
                        + " --dport 40001 -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT",
                "ip netns exec ns ip6tables -w 5 -A FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128 -p tcp -m tcp"
                        + " --dport 40001 -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT");
    }

    @Test
    void failedApplyNamesTheCommandAndStderr() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.fail("iptables -w 5 -A FTPGATE-IN", 2, "iptables v1.8.9 (nf_tables): Couldn't load match `conntrack'\n");
        assertThatThrownBy(() -> firewall.apply(v4Lease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("ip netns exec ns iptables -w 5 -A FTPGATE-IN -s 198.51.100.2/32")
                .hasMessageContaining("exit 2: iptables v1.8.9 (nf_tables): Couldn't load match `conntrack'");
    }

    @Test
    void anAddThatTimesOutIsUndoneForItMayHaveCommittedTheRule() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        runner.timeout("iptables -w 5 -A FTPGATE-IN");
        assertThatThrownBy(() -> firewall.apply(v4Lease())).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e).hasMessageContaining("timed out");
            assertThat(e.timedOut()).isTrue();
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE);
        });
        assertThat(runner.lines()).containsExactly(P + "iptables -w 5 -A FTPGATE-IN" + V4_RULE, P + "iptables -w 5 -D FTPGATE-IN" + V4_RULE);
    }

    @Test
    void anUndoThatFindsNoRuleIsAnUndoAllTheSame() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.timeout("iptables -w 5 -A FTPGATE-IN");
        runner.fail("iptables -w 5 -D FTPGATE-IN", 1, BAD_RULE);
        assertThatThrownBy(() -> firewall.apply(v4Lease())).isInstanceOfSatisfying(FirewallException.class,
                e -> assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE));
    }

    @Test
    void anAddThatTimesOutAndCannotBeUndoneMayBeInForce() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.timeout("iptables -w 5 -A FTPGATE-IN");
        runner.fail("iptables -w 5 -D FTPGATE-IN", 4, "iptables: Resource temporarily unavailable.\n");
        assertThatThrownBy(() -> firewall.apply(v4Lease())).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.POSSIBLE);
            assertThat(e.getSuppressed()).singleElement().asString().contains("-D FTPGATE-IN", "Resource temporarily");
        });
    }

    @Test
    void anAddThatFailsOutrightCommittedNothingAndIsNotUndone() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        runner.fail("iptables -w 5 -A FTPGATE-IN", 4, "iptables: Resource temporarily unavailable.\n");
        assertThatThrownBy(() -> firewall.apply(v4Lease())).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.NONE);
            assertThat(e.timedOut()).isFalse();
        });
        assertThat(runner.lines()).hasSize(1);
    }

    // --- batches: lease changes that queued up together ---

    @Test
    void changesQueuedTogetherAreOneRestorePerFamilyInOrder() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        DataLease a = v4Lease(40001);
        DataLease b = v4Lease(40002);
        DataLease c = v4Lease(40003);
        DataLease v6a = new DataLease(17, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40001);
        DataLease v6b = new DataLease(17, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40002);

        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.apply(v6a),
                LeaseChange.revoke(b), LeaseChange.apply(c), LeaseChange.revoke(v6b)));

        assertThat(results).hasSize(5).containsOnlyNulls();
        assertThat(runner.lines()).containsExactly(P + "iptables-restore -w 5 --noflush",
                P + "ip6tables-restore -w 5 --noflush");
        assertThat(runner.inputs).containsExactly(
                "*filter\n"
                        + "-A FTPGATE-IN" + rule(40001) + "\n"
                        + "-D FTPGATE-IN" + rule(40002) + "\n"
                        + "-A FTPGATE-IN" + rule(40003) + "\n"
                        + "COMMIT\n",
                "*filter\n"
                        + "-A FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128" + rule(40001).substring(rule(40001).indexOf(" -p")) + "\n"
                        + "-D FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128" + rule(40002).substring(rule(40002).indexOf(" -p")) + "\n"
                        + "COMMIT\n");
    }

    @Test
    void aFailedBatchCommittedNothingSoEachChangeIsMadeAloneAndOnlyTheBadOneFails() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        runner.fail("iptables-restore", 1, "iptables-restore: line 3 failed\n");
        runner.fail("-D FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40002", 1, BAD_RULE);
        runner.fail("--dport 40003", 2, "iptables v1.8.9: Couldn't load match `conntrack'\n");

        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(v4Lease(40001)),
                LeaseChange.revoke(v4Lease(40002)), LeaseChange.apply(v4Lease(40003))));

        assertThat(results.get(0)).as("a good apply").isNull();
        assertThat(results.get(1)).as("a revoke of a rule already gone").isNull();
        assertThat(results.get(2)).as("the bad change").hasMessageContaining("Couldn't load match")
                .matches(e -> e.residue() == FirewallException.Residue.NONE, "committed nothing");
        assertThat(runner.lines()).containsExactly(P + "iptables-restore -w 5 --noflush",
                P + "iptables -w 5 -A FTPGATE-IN" + rule(40001), P + "iptables -w 5 -D FTPGATE-IN" + rule(40002),
                P + "iptables -w 5 -A FTPGATE-IN" + rule(40003));
    }

    @Test
    void aBatchThatTimesOutUndoesItsAppliesAndMakesItsRevokesAgain() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        runner.timeout("iptables-restore");

        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(v4Lease(40001)),
                LeaseChange.revoke(v4Lease(40002))));

        assertThat(results.get(0)).hasMessageContaining("timed out").hasMessageContaining("40001")
                .matches(FirewallException::timedOut, "timed out")
                .matches(e -> e.residue() == FirewallException.Residue.UNDONE, "undone");
        assertThat(results.get(1)).isNull();
        assertThat(runner.lines()).containsExactly(P + "iptables-restore -w 5 --noflush",
                P + "iptables -w 5 -D FTPGATE-IN" + rule(40001), P + "iptables -w 5 -D FTPGATE-IN" + rule(40002));
    }

    @Test
    void withoutARestoreBinaryChangesAreMadeOneByOne() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        runner.missing("iptables-restore");
        assertThat(firewall.change(List.of(LeaseChange.apply(v4Lease(40001)), LeaseChange.apply(v4Lease(40002)))))
                .containsOnlyNulls();
        assertThat(runner.lines()).containsExactly(P + "iptables-restore -w 5 --noflush",
                P + "iptables -w 5 -A FTPGATE-IN" + rule(40001), P + "iptables -w 5 -A FTPGATE-IN" + rule(40002));
    }

    @Test
    void aLoneChangeADivertedLeaseAndAnUnusableFamilyAreNotBatched() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        runner.unusable("ip6tables", 3, "ip6tables: unusable");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        DataLease v6 = new DataLease(17, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40001);

        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(divertLease()),
                LeaseChange.apply(v6), LeaseChange.apply(v4Lease(40002))));

        assertThat(results.get(0)).isNull();
        assertThat(results.get(1)).hasMessageContaining("IPv6 leases are disabled");
        assertThat(results.get(2)).isNull();
        assertThat(runner.lines()).hasSize(3).noneMatch(line -> line.contains("restore"));
        assertThat(runner.lines().get(2)).isEqualTo(P + "iptables -w 5 -A FTPGATE-IN" + rule(40002));
    }

    @Test
    void revokingAMissingRuleIsNotAnError() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.fail("iptables -w 5 -D FTPGATE-IN", 1, BAD_RULE);
        firewall.revoke(v4Lease());
        assertThat(runner.lines()).last().asString().contains("iptables -w 5 -D FTPGATE-IN -s 198.51.100.2/32");
    }

    @Test
    void otherRevokeFailuresAreErrors() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.fail("iptables -w 5 -D FTPGATE-IN", 4, "iptables: Resource temporarily unavailable.\n");
        assertThatThrownBy(() -> firewall.revoke(v4Lease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("Resource temporarily unavailable");
    }

    @Test
    void outboundLeasesNeedNoRuleUnlessOutputIsGuarded() throws Exception {
        DataLease outbound = new DataLease(17, Direction.OUTBOUND, ip("203.0.113.2"), ip("203.0.113.1"), 20);
        IptablesFirewall unguarded = firewall(false);
        unguarded.start();
        runner.calls.clear();
        unguarded.apply(outbound);
        unguarded.revoke(outbound);
        assertThat(runner.calls).isEmpty();

        IptablesFirewall guarded = firewall(true);
        guarded.start();
        runner.calls.clear();
        guarded.apply(outbound);
        assertThat(runner.lines()).singleElement().asString()
                .startsWith("ip netns exec ns iptables -w 5 -A FTPGATE-OUT -s 203.0.113.1/32 -d 203.0.113.2/32");
    }

    @Test
    void stopRemovesJumpsAndChainsOfBothFamiliesAndIsIdempotent() throws Exception {
        runner.listing("iptables", "-N FTPGATE-IN\n-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN\n"
                + "-A FTPGATE-IN -s 198.51.100.2/32 -j ACCEPT\n");
        runner.listing("ip6tables", "-N FTPGATE-IN\n-N FTPGATE-OUT\n-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN\n-A OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT\n");
        IptablesFirewall firewall = firewall(false);
        firewall.stop();
        assertThat(runner.lines()).containsExactly(
                "ip netns exec ns iptables -w 5 -S",
                "ip netns exec ns iptables -w 5 -D INPUT -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -F FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -X FTPGATE-IN",
                "ip netns exec ns iptables -w 5 -t nat -S",
                "ip netns exec ns iptables -w 5 -t mangle -S",
                "ip netns exec ns ip6tables -w 5 -S",
                "ip netns exec ns ip6tables -w 5 -D INPUT -m conntrack --ctstate NEW -j FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -F FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -X FTPGATE-IN",
                "ip netns exec ns ip6tables -w 5 -D OUTPUT -m conntrack --ctstate NEW -j FTPGATE-OUT",
                "ip netns exec ns ip6tables -w 5 -F FTPGATE-OUT",
                "ip netns exec ns ip6tables -w 5 -X FTPGATE-OUT",
                "ip netns exec ns ip6tables -w 5 -t nat -S",
                "ip netns exec ns ip6tables -w 5 -t mangle -S");

        runner.listing("iptables", "-P INPUT ACCEPT\n");
        runner.listing("ip6tables", "-P INPUT ACCEPT\n");
        runner.calls.clear();
        firewall.stop();
        assertThat(runner.lines()).containsExactly("ip netns exec ns iptables -w 5 -S",
                "ip netns exec ns iptables -w 5 -t nat -S",
                "ip netns exec ns iptables -w 5 -t mangle -S", "ip netns exec ns ip6tables -w 5 -S",
                "ip netns exec ns ip6tables -w 5 -t nat -S",
                "ip netns exec ns ip6tables -w 5 -t mangle -S");
    }

    @Test
    void stopWithoutIp6tablesStillCleansIpv4() throws Exception {
        runner.missing("ip6tables");
        runner.listing("iptables", "-N FTPGATE-IN\n");
        firewall(false).stop();
        assertThat(runner.lines()).contains("ip netns exec ns iptables -w 5 -X FTPGATE-IN");
    }

    // --- interception ---

    @Test
    void aForwardLeaseIsOneRestoreBatchAndAFailedOneIsUndoneRuleByRule() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        firewall.prepareForwarding(40000, 40999);
        ForwardLease lease = new ForwardLease(17, InetAddress.getByName("198.51.100.2"), InetAddress.getByName("198.51.100.1"),
                40017, InetAddress.getByName("203.0.113.2"), 30000, InetAddress.getByName("203.0.113.1"));
        ForwardRules forward = new ForwardRules(new IptablesRules("FTPGATE"));

        runner.calls.clear();
        firewall.applyForward(lease);
        assertThat(runner.lines()).containsExactly(P + "iptables-restore -w 5 --noflush");
        assertThat(runner.inputs).containsExactly(ForwardRules.restoreInput(forward.append(lease)));

        runner.calls.clear();
        runner.fail("iptables-restore", 1, "iptables-restore: line 5 failed\n");
        assertThatThrownBy(() -> firewall.applyForward(lease)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("line 5 failed")
                .matches(e -> ((FirewallException) e).residue() == FirewallException.Residue.UNDONE, "undone");
        List<String> undo = new ArrayList<>(List.of(P + "iptables-restore -w 5 --noflush"));
        forward.delete(lease).forEach(args -> undo.add(P + "iptables " + IptablesRules.commandLine(args)));
        assertThat(runner.lines()).as("the batch, then every rule of the lease deleted one by one").containsExactlyElementsOf(undo);

        runner.calls.clear();
        firewall.revokeForward(lease);
        assertThat(runner.lines()).as("a failed delete batch (a rule already gone) is retried rule by rule")
                .containsExactlyElementsOf(undo);
    }

    private static final Interception SPEC = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);
    private static final String P = "ip netns exec ns ";
    private static final String COMMENT = "-m comment --comment \"ftpgate intercept table 100\"";
    private static final List<String> DESCRIBED = List.of(
            P + "iptables -w 5 -t mangle -N FTPGATE-TPROXY",
            P + "iptables -w 5 -t mangle -N FTPGATE-DIVERT",
            P + "iptables -w 5 -t mangle -A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags"
                    + " FIN,SYN,RST,ACK SYN " + COMMENT + " -j MARK --set-xmark 0x1/0x1",
            P + "iptables -w 5 -t mangle -A FTPGATE-TPROXY -j FTPGATE-DIVERT",
            P + "iptables -w 5 -t mangle -A FTPGATE-TPROXY -p tcp -m tcp --dport 21 " + COMMENT
                    + " -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1",
            P + "iptables -w 5 -I FTPGATE-IN 1 -p tcp -m tcp --dport 21 -m mark --mark 0x1/0x1"
                    + " -m conntrack --ctstate NEW " + COMMENT + " -j ACCEPT",
            P + "ip -4 rule add fwmark 0x1/0x1 lookup 100",
            P + "ip -4 route replace local 0.0.0.0/0 dev lo table 100",
            P + "iptables -w 5 -t mangle -I PREROUTING 1 -j FTPGATE-TPROXY",
            P + "ip6tables -w 5 -t mangle -N FTPGATE-TPROXY",
            P + "ip6tables -w 5 -t mangle -N FTPGATE-DIVERT",
            P + "ip6tables -w 5 -t mangle -A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags"
                    + " FIN,SYN,RST,ACK SYN " + COMMENT + " -j MARK --set-xmark 0x1/0x1",
            P + "ip6tables -w 5 -t mangle -A FTPGATE-TPROXY -j FTPGATE-DIVERT",
            P + "ip6tables -w 5 -t mangle -A FTPGATE-TPROXY -p tcp -m tcp --dport 21 " + COMMENT
                    + " -j TPROXY --on-port 2121 --on-ip :: --tproxy-mark 0x1/0x1",
            P + "ip6tables -w 5 -I FTPGATE-IN 1 -p tcp -m tcp --dport 21 -m mark --mark 0x1/0x1"
                    + " -m conntrack --ctstate NEW " + COMMENT + " -j ACCEPT",
            P + "ip -6 rule add fwmark 0x1/0x1 lookup 100",
            P + "ip -6 route replace local ::/0 dev lo table 100",
            P + "ip6tables -w 5 -t mangle -I PREROUTING 1 -j FTPGATE-TPROXY");

    /** What iptables lists once DESCRIBED ran (the filter chain as start() left it). */
    private void installedListings(String divertRules) {
        for (String binary : List.of("iptables", "ip6tables")) {
            String any = binary.equals("iptables") ? "0.0.0.0" : "::";
            runner.listing(binary, "-P INPUT DROP\n-N FTPGATE-IN\n-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN\n"
                    + "-A FTPGATE-IN -p tcp -m tcp --dport 21 -m mark --mark 0x1/0x1 -m conntrack --ctstate NEW "
                    + COMMENT + " -j ACCEPT\n");
            runner.listing(binary + " mangle", "-P PREROUTING ACCEPT\n-N FTPGATE-DIVERT\n-N FTPGATE-TPROXY\n"
                    + "-A PREROUTING -j FTPGATE-TPROXY\n"
                    + (binary.equals("iptables") ? divertRules : "")
                    + "-A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN "
                    + COMMENT + " -j MARK --set-xmark 0x1/0x1\n"
                    + "-A FTPGATE-TPROXY -j FTPGATE-DIVERT\n"
                    + "-A FTPGATE-TPROXY -p tcp -m tcp --dport 21 " + COMMENT
                    + " -j TPROXY --on-port 2121 --on-ip " + any + " --tproxy-mark 0x1/0x1\n");
        }
        for (String family : List.of("-4", "-6")) {
            runner.listing(family + " rule", "0:\tfrom all lookup local\n32765:\tfrom all fwmark 0x1/0x1 lookup 100\n"
                    + "32766:\tfrom all lookup main\n");
        }
    }

    @Test
    void describeInterceptGivesEveryCommandForBothFamilies() {
        assertThat(firewall(false).describeIntercept(SPEC)).containsExactlyElementsOf(DESCRIBED);
    }

    @Test
    void interceptOnACleanHostRunsExactlyWhatItDescribes() throws Exception {
        IptablesFirewall firewall = firewall(false);
        runner.listing("iptables", "-N FTPGATE-IN\n");
        runner.listing("ip6tables", "-N FTPGATE-IN\n");
        firewall.start();
        runner.calls.clear();
        firewall.intercept(SPEC);
        assertThat(runner.lines()).filteredOn(line -> !line.endsWith(" -S") && !line.endsWith(" show"))
                .containsExactlyElementsOf(DESCRIBED);
    }

    @Test
    void interceptIsIdempotent() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        runner.calls.clear();
        firewall.intercept(SPEC);
        assertThat(runner.lines()).filteredOn(line -> !line.endsWith(" -S") && !line.endsWith(" show")).containsExactly(
                P + "ip -4 route replace local 0.0.0.0/0 dev lo table 100",
                P + "ip -6 route replace local ::/0 dev lo table 100");
    }

    @Test
    void aChangedSpecReplacesTheRulesAndTheOldRouting() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        runner.unusable("ip6tables", 3, "ip6tables: unusable");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        firewall.intercept(new Interception(0x2, 101, List.of(), List.of(), List.of(21), 2121));
        assertThat(runner.lines()).contains(
                P + "iptables -w 5 -t mangle -F FTPGATE-TPROXY",
                P + "iptables -w 5 -D FTPGATE-IN 1",
                P + "ip -4 rule add fwmark 0x2/0x2 lookup 101",
                P + "ip -4 rule del fwmark 0x1/0x1 lookup 100",
                P + "ip -4 route del local 0.0.0.0/0 dev lo table 100");
        assertThat(runner.lines()).noneMatch(line -> line.contains("-N FTPGATE-TPROXY") || line.contains("-I PREROUTING"));
    }

    @Test
    void interceptBeforeStartIsAClearError() {
        assertThatThrownBy(() -> firewall(false).intercept(SPEC)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("start() must run before intercept()");
    }

    @Test
    void unusableIp6tablesInterceptsIpv4Only() throws Exception {
        runner.unusable("ip6tables", 3, "ip6tables: unusable");
        runner.listing("iptables", "-N FTPGATE-IN\n");
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        firewall.intercept(SPEC);
        assertThat(runner.lines()).contains(P + "iptables -w 5 -t mangle -I PREROUTING 1 -j FTPGATE-TPROXY")
                .noneMatch(line -> line.contains("ip -6 ") || line.contains("ip6tables -w 5 -t mangle -N"));
    }

    @Test
    void aDivertLeaseBeforeInterceptIsRefused() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        assertThatThrownBy(() -> firewall.apply(divertLease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("needs intercept() first");
        assertThat(runner.calls).isEmpty();
    }

    @Test
    void aDivertLeaseIsTheFilterRuleAndTheTproxyRuleAndRevokeRemovesBoth() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        firewall.apply(divertLease());
        firewall.revoke(divertLease());
        String filter = " -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW"
                + " -m comment --comment \"ftpgate session 17\" -j ACCEPT";
        String mangle = " -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 40001"
                + " -m comment --comment \"ftpgate session 17\" -j TPROXY --on-port 40001 --on-ip 203.0.113.2"
                + " --tproxy-mark 0x1/0x1";
        assertThat(runner.lines()).containsExactly(
                P + "iptables -w 5 -A FTPGATE-IN" + filter,
                P + "iptables -w 5 -t mangle -A FTPGATE-DIVERT" + mangle,
                P + "iptables -w 5 -t mangle -D FTPGATE-DIVERT" + mangle,
                P + "iptables -w 5 -D FTPGATE-IN" + filter);
    }

    @Test
    void aDivertLeaseIsAllOrNothing() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        runner.fail("-A FTPGATE-DIVERT", 1, "iptables v1.8.9 (nf_tables): Couldn't load target `TPROXY'\n");
        assertThatThrownBy(() -> firewall.apply(divertLease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("Couldn't load target `TPROXY'");
        assertThat(runner.lines()).hasSize(3);
        assertThat(runner.lines().get(2)).startsWith(P + "iptables -w 5 -D FTPGATE-IN -s 198.51.100.2/32 -d 203.0.113.2/32");
    }

    @Test
    void aDivertRuleThatTimesOutIsUndoneWithTheFilterRule() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        runner.timeout("-A FTPGATE-DIVERT");
        assertThatThrownBy(() -> firewall.apply(divertLease())).isInstanceOfSatisfying(FirewallException.class, e -> {
            assertThat(e.timedOut()).isTrue();
            assertThat(e.residue()).isEqualTo(FirewallException.Residue.UNDONE);
        });
        assertThat(runner.lines()).hasSize(4);
        assertThat(runner.lines().get(2)).startsWith(P + "iptables -w 5 -t mangle -D FTPGATE-DIVERT -s 198.51.100.2/32");
        assertThat(runner.lines().get(3)).startsWith(P + "iptables -w 5 -D FTPGATE-IN -s 198.51.100.2/32 -d 203.0.113.2/32");
    }

    @Test
    void revokingADivertLeaseTriesBothRulesAndReportsTheFailure() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        runner.fail("-D FTPGATE-DIVERT", 4, "iptables: Resource temporarily unavailable.\n");
        assertThatThrownBy(() -> firewall.revoke(divertLease())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("Resource temporarily unavailable");
        assertThat(runner.lines()).hasSize(2).last().asString().contains("-D FTPGATE-IN");
    }

    @Test
    void anOutboundDivertLeaseIsAnOrdinaryOutboundLease() throws Exception {
        IptablesFirewall firewall = firewall(false);
        firewall.start();
        runner.calls.clear();
        firewall.apply(new DataLease(17, Direction.OUTBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 20, true));
        assertThat(runner.calls).isEmpty();
    }

    @Test
    void startPurgesOrphanedDivertRules() throws Exception {
        installedListings("-A FTPGATE-DIVERT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 40001"
                + " -m comment --comment \"ftpgate session 3\" -j TPROXY --on-port 40001 --on-ip 203.0.113.2"
                + " --tproxy-mark 0x1/0x1\n");
        assertThat(firewall(false).start()).isEqualTo(1);
        assertThat(runner.lines()).contains(P + "iptables -w 5 -t mangle -F FTPGATE-DIVERT")
                .noneMatch(line -> line.contains("-F FTPGATE-IN"));
    }

    @Test
    void stopRemovesTheInterceptionAndIsIdempotent() throws Exception {
        IptablesFirewall firewall = firewall(false);
        installedListings("");
        firewall.start();
        firewall.intercept(SPEC);
        runner.calls.clear();
        firewall.stop();
        assertThat(runner.lines()).filteredOn(line -> line.contains("mangle") || line.contains(" ip -")).containsExactly(
                P + "iptables -w 5 -t mangle -S",
                P + "iptables -w 5 -t mangle -D PREROUTING -j FTPGATE-TPROXY",
                P + "ip -4 rule show",
                P + "ip -4 rule del fwmark 0x1/0x1 lookup 100",
                P + "ip -4 route del local 0.0.0.0/0 dev lo table 100",
                P + "iptables -w 5 -t mangle -F FTPGATE-TPROXY",
                P + "iptables -w 5 -t mangle -F FTPGATE-DIVERT",
                P + "iptables -w 5 -t mangle -X FTPGATE-TPROXY",
                P + "iptables -w 5 -t mangle -X FTPGATE-DIVERT",
                P + "ip6tables -w 5 -t mangle -S",
                P + "ip6tables -w 5 -t mangle -D PREROUTING -j FTPGATE-TPROXY",
                P + "ip -6 rule show",
                P + "ip -6 rule del fwmark 0x1/0x1 lookup 100",
                P + "ip -6 route del local ::/0 dev lo table 100",
                P + "ip6tables -w 5 -t mangle -F FTPGATE-TPROXY",
                P + "ip6tables -w 5 -t mangle -F FTPGATE-DIVERT",
                P + "ip6tables -w 5 -t mangle -X FTPGATE-TPROXY",
                P + "ip6tables -w 5 -t mangle -X FTPGATE-DIVERT");

        for (String key : List.of("iptables", "ip6tables", "iptables mangle", "ip6tables mangle", "-4 rule", "-6 rule")) {
            runner.listing(key, "");
        }
        runner.calls.clear();
        runner.fail("route del", 2, "RTNETLINK answers: No such process\n");
        firewall.stop();
        assertThat(runner.lines()).containsExactly(P + "iptables -w 5 -S", P + "iptables -w 5 -t nat -S",
                P + "iptables -w 5 -t mangle -S", P + "ip6tables -w 5 -S", P + "ip6tables -w 5 -t nat -S",
                P + "ip6tables -w 5 -t mangle -S");
    }

    @Test
    void stopInAFreshProcessReadsMarkAndTableFromTheListedRules() throws Exception {
        installedListings("");
        runner.listing("-4 rule", "32765:\tfrom all fwmark 0x1/0x1 lookup 100\n32765:\tfrom all fwmark 0x1/0x1 lookup 100\n");
        runner.fail("ip -6 route del", 2, "RTNETLINK answers: No such process\n");
        firewall(false).stop();
        assertThat(runner.lines()).filteredOn(line -> line.contains(" ip -4 rule del")).hasSize(2);
        assertThat(runner.lines()).contains(P + "ip -6 rule del fwmark 0x1/0x1 lookup 100",
                P + "iptables -w 5 -t mangle -X FTPGATE-TPROXY");
    }

    @Test
    void stopWithoutInterceptionNeverRunsIp() throws Exception {
        firewall(false).stop();
        assertThat(runner.lines()).noneMatch(line -> line.contains(" ip -"));
    }

    /** The rule of v4Lease() after -A or -D and the chain. */
    private static final String V4_RULE = " -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001"
            + " -m conntrack --ctstate NEW -m comment --comment \"ftpgate session 17\" -j ACCEPT";

    private static DataLease divertLease() throws IOException {
        return new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("203.0.113.2"), 40001, true);
    }

    private static DataLease v4Lease(int port) throws IOException {
        return new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), port);
    }

    /** The rule of v4Lease(port) after -A or -D and the chain. */
    private static String rule(int port) {
        return V4_RULE.replace("40001", Integer.toString(port));
    }

    private static DataLease v4Lease() throws IOException {
        return new DataLease(17, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
    }

    private static DataLease v6Lease() throws IOException {
        return new DataLease(17, Direction.INBOUND, ip("2001:db8:1::2"), ip("2001:db8:1::1"), 40001);
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }

    /**
     * Answers {@code -S} with a per-binary listing and everything else with success, unless a
     * scripted failure's text occurs in the command line.
     */
    static final class ScriptedRunner extends CommandRunner {
        final List<List<String>> calls = new ArrayList<>();
        private final Map<String, String> listings = new HashMap<>();
        private final Map<String, Result> failures = new HashMap<>();
        private final Map<String, String> outputs = new HashMap<>();
        private final List<String> missing = new ArrayList<>();

        /** What {@code -S} lists: key {@code iptables}, {@code ip6tables mangle}, or {@code -4 rule} for {@code ip -4 rule show}. */
        void listing(String binary, String text) {
            listings.put(binary, text);
        }

        /** What a command containing {@code commandPart} prints on stdout (e.g. {@code ipset list -name}). */
        void output(String commandPart, String stdout) {
            outputs.put(commandPart, stdout);
        }

        void fail(String commandPart, int exitCode, String stderr) {
            failures.put(commandPart, new Result(List.of(), exitCode, "", stderr, Duration.ofMillis(1), false));
        }

        void timeout(String commandPart) {
            failures.put(commandPart, new Result(List.of(), Result.KILLED, "", "", Duration.ofSeconds(5), true));
        }

        /** Every command of this binary fails, as when {@code ip netns exec} cannot exec it. */
        void unusable(String binary, int exitCode, String stderr) {
            fail(" " + binary + " ", exitCode, stderr);
        }

        /** The binary cannot be started at all. */
        void missing(String binary) {
            missing.add(binary);
        }

        List<String> lines() {
            return calls.stream().map(IptablesRules::commandLine).toList();
        }

        /** What each command with standard input was given, in order. */
        final List<String> inputs = new ArrayList<>();

        @Override
        public Result run(List<String> argv, Duration timeout, String input) throws IOException {
            inputs.add(input);
            return run(argv, timeout);
        }

        @Override
        public Result run(List<String> argv, Duration timeout) throws IOException {
            calls.add(List.copyOf(argv));
            String line = " " + IptablesRules.commandLine(argv) + " ";
            for (String binary : missing) {
                if (argv.contains(binary)) {
                    throw new IOException("Cannot run program \"" + binary + "\": error=2, No such file or directory");
                }
            }
            for (Map.Entry<String, Result> failure : failures.entrySet()) {
                if (line.contains(failure.getKey())) {
                    Result r = failure.getValue();
                    return new Result(argv, r.exitCode(), r.stdout(), r.stderr(), r.elapsed(), r.timedOut());
                }
            }
            String stdout = "";
            for (Map.Entry<String, String> output : outputs.entrySet()) {
                if (line.contains(output.getKey())) {
                    stdout = output.getValue();
                }
            }
            if (argv.contains("-w") && argv.get(argv.size() - 1).equals("-S")) {
                String binary = argv.get(argv.indexOf("-w") - 1);
                stdout = listings.getOrDefault(argv.contains("mangle") ? binary + " mangle" : binary, "");
            } else if (argv.get(argv.size() - 1).equals("show")) {
                stdout = listings.getOrDefault(argv.get(argv.size() - 3) + " " + argv.get(argv.size() - 2), "");
            }
            return new Result(argv, 0, stdout, "", Duration.ofMillis(1), false);
        }
    }
}
