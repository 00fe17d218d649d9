package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.process.CommandRunner;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the nftables backend batches lease changes and what each gets back, with a recording channel. */
class NftFirewallTest {

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, false);
    private final RecordingChannel channel = new RecordingChannel(rules);
    private final ScriptedRunner runner = new ScriptedRunner();
    private final NftFirewall firewall = new NftFirewall(rules, List.of("inet filter input"), true, List.of(), "nft",
            Duration.ofSeconds(5), Duration.ofSeconds(15), runner, channel);

    private final DataLease a = lease(Direction.INBOUND, "198.51.100.2", "198.51.100.1", 40001, false);
    private final DataLease b = lease(Direction.INBOUND, "2001:db8:1::2", "2001:db8:1::1", 40002, false);
    private final DataLease c = lease(Direction.INBOUND, "198.51.100.3", "198.51.100.1", 40003, false);

    @Test
    void queuedChangesAreOneLineThatIsOneTransaction() {
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.apply(b),
                LeaseChange.revoke(c)));
        assertThat(results).containsExactly(null, null, null);
        assertThat(channel.batches).containsExactly(List.of(rules.batch(List.of(LeaseChange.apply(a),
                LeaseChange.apply(b), LeaseChange.revoke(c)), 15)));
    }

    @Test
    void aRefusedBatchIsMadeOneLinePerChangeSoThatEachHasItsOwnResult() {
        String bLine = rules.change(LeaseChange.apply(b), 15);
        channel.answer(Map.of("", "Error: Could not process rule: No such file or directory"));
        channel.answer(Map.of(bLine, "Error: Could not process rule: No such file or directory"));
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.apply(b),
                LeaseChange.revoke(c)));
        assertThat(results.get(0)).isNull();
        assertThat(results.get(1)).hasMessageContaining("nft refused " + bLine + ": Error: Could not process rule");
        assertThat(results.get(1).residue()).isEqualTo(FirewallException.Residue.NONE);
        assertThat(results.get(2)).isNull();
        assertThat(channel.batches).hasSize(2);
        assertThat(channel.batches.get(1)).containsExactly(rules.change(LeaseChange.apply(a), 15), bLine,
                rules.change(LeaseChange.revoke(c), 15));
    }

    @Test
    void whenTheTableIsGoneItAndTheRuleArePutBackAndTheBatchTriedOnceMore() {
        runner.listing = "table inet filter { # handle 2\n\tchain input { # handle 1\n"
                + "\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n";
        channel.answer(Map.of("", "Error: Could not process rule: No such file or directory"));
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.apply(b)));
        assertThat(results).containsExactly(null, null);
        assertThat(runner.scripts).containsExactly(rules.replaceTable()
                + rules.insertHookRule(NftListing.HookChain.parse("inet filter input")) + "\n");
        String line = rules.batch(List.of(LeaseChange.apply(a), LeaseChange.apply(b)), 15);
        assertThat(channel.batches).containsExactly(List.of(line), List.of(line));
    }

    @Test
    void aBatchRefusedWhileTheTableIsThereIsNotRetried() {
        runner.listing = "table inet ftpgate { # handle 3\n}\n";
        channel.answer(Map.of("", "Error: something else"));
        assertThat(firewall.change(List.of(LeaseChange.apply(a))).get(0)).hasMessageContaining("Error: something else");
        assertThat(runner.scripts).isEmpty();
        assertThat(channel.batches).hasSize(1);
    }

    @Test
    void aBatchWithoutAcknowledgementIsUndoneAppliesCompensatedRevokesMadeAgain() {
        channel.fail(new FirewallException("nft did not acknowledge ... within 5000 ms", null,
                FirewallException.Residue.NONE, true));
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.revoke(c)));
        assertThat(results.get(0).residue()).isEqualTo(FirewallException.Residue.UNDONE);
        assertThat(results.get(0).timedOut()).isTrue();
        assertThat(results.get(1)).as("the revoke, made again and acknowledged").isNull();
        assertThat(channel.batches.get(1)).containsExactly(rules.change(LeaseChange.revoke(a), 15),
                rules.change(LeaseChange.revoke(c), 15));
    }

    @Test
    void whenTheUndoFailsTooTheApplyMayBeInForceAndTheRevokeFails() {
        channel.fail(new FirewallException("nft ended (exit 1) before acknowledging ..."));
        channel.fail(new FirewallException("cannot start nft -i"));
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(a), LeaseChange.revoke(c)));
        assertThat(results.get(0).residue()).isEqualTo(FirewallException.Residue.POSSIBLE);
        assertThat(results.get(1)).hasMessageContaining("nft ended (exit 1)");
        assertThat(results.get(1).getSuppressed()).singleElement().extracting(Throwable::getMessage)
                .isEqualTo("cannot start nft -i");
    }

    @Test
    void outboundLeasesNeedNoElementWithoutGuardedOutputAndDiversionsAreRefusedBeforeIntercept() {
        DataLease out = lease(Direction.OUTBOUND, "203.0.113.2", "203.0.113.1", 20, false);
        DataLease diverted = lease(Direction.INBOUND, "198.51.100.2", "203.0.113.2", 40004, true);
        List<FirewallException> results = firewall.change(List.of(LeaseChange.apply(out), LeaseChange.apply(diverted)));
        assertThat(results.get(0)).isNull();
        assertThat(results.get(1)).hasMessageContaining("a diverted lease needs intercept() first");
        assertThat(channel.batches).isEmpty();
    }

    private static DataLease lease(Direction direction, String peer, String local, int port, boolean divert) {
        try {
            return new DataLease(9, direction, InetAddress.getByName(peer), InetAddress.getByName(local), port, divert);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Answers {@code nft -a -t list ruleset} with {@link #listing} and records {@code nft -f -} scripts; runs nothing. */
    private static final class ScriptedRunner extends CommandRunner {
        String listing = "";
        final List<String> scripts = new ArrayList<>();

        @Override
        public Result run(List<String> argv, Duration timeout, String input) {
            if (input != null) {
                scripts.add(input);
            }
            return new Result(argv, 0, input == null ? listing : "", "", Duration.ZERO, false);
        }
    }

    /** Records each batch; answers the next ones with complaints or failures, in order. */
    private static final class RecordingChannel extends NftChannel {
        final List<List<String>> batches = new ArrayList<>();
        private final ArrayDeque<Object> answers = new ArrayDeque<>();

        RecordingChannel(NftRules rules) {
            super(List.of("unused"), rules, Duration.ofSeconds(5), new CommandRunner());
        }

        void answer(Map<String, String> complaints) {
            answers.add(complaints);
        }

        void fail(FirewallException failure) {
            answers.add(failure);
        }

        @Override
        @SuppressWarnings("unchecked")
        Map<String, String> execute(List<String> lines) throws FirewallException {
            batches.add(List.copyOf(lines));
            Object next = answers.poll();
            if (next instanceof FirewallException e) {
                throw e;
            }
            return next == null ? Map.of() : (Map<String, String>) next;
        }

        @Override
        public void close() {
        }
    }
}
