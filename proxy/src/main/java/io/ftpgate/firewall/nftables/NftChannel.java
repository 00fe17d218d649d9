package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.process.Conversation;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One long-lived {@code nft -i} process (nft's interactive mode), a {@link Conversation}, that
 * carries every lease change. Each line is one transaction (all of it or nothing); after a batch of
 * lines comes {@link NftRules#sentinel}, a listing of a set that never exists, and nft's complaint
 * about it, which echoes the line on stderr, acknowledges the batch. nft echoes every line it
 * refuses after its {@code Error:} line, so each complaint is matched to its line.
 *
 * <p>The process is replaced after {@link #LINES_PER_PROCESS} lines and keeps no history file
 * ({@link #NO_HOME}). A batch not acknowledged within the timeout fails, and the process is killed (its state is
 * unknown); a process that died is replaced at the next batch, with a log line. Called from one
 * thread at a time (the firewall thread). Not final so that tests can record batches instead.
 */
class NftChannel implements AutoCloseable {

    /**
     * nft -i (1.0.6, libedit) keeps every line in its history, and each line costs more than the
     * one before (10,000 lines: about 0.13 ms each, 10 times the first ones; so a process that ran
     * for days would be slow): a process is replaced after this many lines (by then about 0.05 ms
     * each); the next one starts at once, so that its start overlaps the wait for the next batch.
     */
    static final int LINES_PER_PROCESS = 2_000;
    /**
     * nft -i reads all of {@code $HOME/.nft.history} at start and writes it back at exit; under
     * this HOME, a file, the history file cannot exist, so lease lines never pile up on disk.
     */
    static final String NO_HOME = "/dev/null";

    private final Conversation conversation;

    /** @param argv the command line, e.g. {@code [nft, -i]} */
    NftChannel(List<String> argv, NftRules rules, Duration timeout, CommandRunner runner) {
        this.conversation = new Conversation("nft", argv,
                Conversation.Acknowledgement.of(rules::sentinel, NftRules::acknowledged), timeout, runner,
                Map.of("HOME", NO_HOME), LINES_PER_PROCESS);
    }

    /**
     * Runs the lines (each one transaction) and waits for their acknowledgement.
     *
     * @return nft's complaints by the line they are about (empty if every line went in); a
     *     complaint nft did not tie to a line is under ""
     * @throws FirewallException if no acknowledgement came within the timeout, or the process
     *     could not be started or died
     */
    Map<String, String> execute(List<String> lines) throws FirewallException {
        return NftRules.complaints(conversation.exchange(lines));
    }

    @Override
    public void close() {
        conversation.close();
    }
}
