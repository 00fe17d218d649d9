package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.process.Conversation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived {@code ipset -exist -} process (ipset's interactive mode), a {@link Conversation},
 * that carries every lease change: a batch of lines is written to its stdin followed by an
 * acknowledgement line ({@link IpsetRules#sentinel}, a {@code test} whose answer ipset writes to
 * stderr), and the batch is done when that answer appears. Every other stderr line before it is an
 * error of this batch, except ipset's {@code Warning:} lines (logged at DEBUG).
 *
 * <p>A batch not acknowledged within the timeout fails, and the process is killed (its state is
 * unknown); a process that died is replaced at the next batch, with a log line. Called from one
 * thread at a time (the firewall thread). Not final so that tests can record batches instead.
 */
class IpsetChannel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IpsetChannel.class);

    private final Conversation conversation;

    /**
     * @param argv the command line of the conversation, e.g. {@code [ipset, -exist, -]}
     * @param timeout how long one batch may wait for its acknowledgement
     */
    IpsetChannel(List<String> argv, IpsetRules rules, Duration timeout, CommandRunner runner) {
        Objects.requireNonNull(rules, "rules");
        this.conversation = new Conversation("ipset", argv,
                Conversation.Acknowledgement.of(rules::sentinel, IpsetRules::acknowledged), timeout, runner);
    }

    /**
     * Runs the lines and waits for their acknowledgement.
     *
     * @throws FirewallException if a line failed (the message has ipset's words), or no
     *     acknowledgement came within the timeout, or the process could not be started or died
     */
    void execute(List<String> lines) throws FirewallException {
        List<String> errors = new ArrayList<>();
        for (String line : conversation.exchange(lines)) {
            if (line.startsWith("Warning:")) {
                LOG.debug("ipset: {}", line);
            } else {
                errors.add(line);
            }
        }
        if (!errors.isEmpty()) {
            throw new FirewallException("ipset refused " + String.join("; ", lines) + ": " + String.join("; ", errors));
        }
    }

    /** Ends the process (closing its stdin ends interactive mode) and waits briefly for it. */
    @Override
    public void close() {
        conversation.close();
    }
}
