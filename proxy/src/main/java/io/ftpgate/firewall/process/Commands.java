package io.ftpgate.firewall.process;

import io.ftpgate.firewall.FirewallException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the firewall backends run a one-shot command: {@code prefix + binary + arguments} (a prefix
 * such as {@code ip netns exec NS} lets tests work inside a network namespace) through the
 * {@link CommandRunner}, with the command timeout, logged at DEBUG with its duration. Also the
 * checks every caller needs: a failure turned into a {@link FirewallException} that names the
 * command and what it said ({@link #mustRun}, {@link #failed}), and "the rule to delete was not
 * there" ({@link #isMissingRule}, iptables' wording). Shared by the iptables, ipset and nftables
 * backends (their one-shot commands; nft's lease changes go through its long-lived channel), all
 * on the one firewall thread.
 */
public final class Commands {

    private static final Logger LOG = LoggerFactory.getLogger(Commands.class);

    private final List<String> prefix;
    private final Duration timeout;
    private final CommandRunner runner;

    /**
     * @param prefix run before the binary, e.g. {@code []} or {@code [ip, netns, exec, NS]}
     * @param timeout how long one command may run before it is killed
     */
    public Commands(List<String> prefix, Duration timeout, CommandRunner runner) {
        this.prefix = List.copyOf(prefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("command timeout must be positive, not " + timeout);
        }
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /** The full command line: prefix, binary, arguments. */
    public List<String> argv(String binary, List<String> args) {
        List<String> argv = new ArrayList<>(prefix);
        argv.add(binary);
        argv.addAll(args);
        return argv;
    }

    /**
     * Runs the command and returns what it left, failed or not.
     *
     * @throws FirewallException only if it cannot be started at all (then it changed nothing)
     */
    public CommandRunner.Result run(String binary, List<String> args) throws FirewallException {
        return run(binary, args, null);
    }

    /** Like {@link #run(String, List)}, with {@code input} on standard input (an {@code iptables-restore} batch). */
    public CommandRunner.Result run(String binary, List<String> args, String input) throws FirewallException {
        List<String> argv = argv(binary, args);
        CommandRunner.Result result;
        try {
            result = input == null ? runner.run(argv, timeout) : runner.run(argv, timeout, input);
        } catch (IOException e) {
            throw new FirewallException("cannot run " + CommandRunner.commandLine(argv) + ": " + e.getMessage(), e);
        }
        LOG.debug("{}{} ({} ms, {})", CommandRunner.commandLine(argv),
                input == null ? "" : " <<< " + abbreviate(input), result.elapsed().toMillis(),
                result.ok() ? "ok" : result.failure());
        return result;
    }

    /**
     * Runs the command; a failure throws.
     *
     * @param label what kind of command it is, for the message: {@code IPv4 firewall}, {@code interception}
     */
    public CommandRunner.Result mustRun(String label, String binary, List<String> args) throws FirewallException {
        CommandRunner.Result result = run(binary, args);
        if (!result.ok()) {
            throw failed(label, result);
        }
        return result;
    }

    /**
     * {@code LABEL command failed: COMMAND LINE: exit N: STDERR}, or its timeout (then
     * {@link FirewallException#timedOut()}).
     */
    public static FirewallException failed(String label, CommandRunner.Result result) {
        return new FirewallException(label + " command failed: " + CommandRunner.commandLine(result.argv()) + ": "
                + result.failure(), null, FirewallException.Residue.NONE, result.timedOut());
    }

    /** A {@code -D} of a rule that is not there: exit 1 and iptables' "Bad rule" text. */
    public static boolean isMissingRule(CommandRunner.Result result) {
        String err = result.stderr();
        return !result.timedOut() && result.exitCode() == 1
                && (err.contains("Bad rule") || err.contains("does a matching rule exist"));
    }

    /**
     * {@link #isMissingRule}, or a {@code -D} in a chain that is gone ("No chain/target/match"; also
     * what iptables says for a missing match module, so only where the chain may be gone).
     */
    public static boolean isMissingRuleOrChain(CommandRunner.Result result) {
        return isMissingRule(result)
                || !result.timedOut() && result.exitCode() == 1 && result.stderr().contains("No chain");
    }

    /** The lines a listing command printed, stripped. */
    public static List<String> lines(CommandRunner.Result result) {
        return result.stdout().lines().map(String::strip).toList();
    }

    /** Standard input for a log line: its lines joined, the first eight of a long batch and a count. */
    private static String abbreviate(String input) {
        List<String> lines = input.strip().lines().toList();
        if (lines.size() <= 8) {
            return String.join(" \\n ", lines);
        }
        return String.join(" \\n ", lines.subList(0, 8)) + " \\n ... (" + lines.size() + " lines)";
    }
}
