package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.FirewallException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived {@code ipset -exist -} process (ipset's interactive mode), started through
 * {@link CommandRunner#startConversation}, that carries every lease change: a batch of lines is
 * written to its stdin followed by an acknowledgement line ({@link IpsetRules#sentinel}), and the
 * batch is done when the answer to that line appears on stderr. Interactive mode executes each
 * line at once and keeps going after an error; errors go to stderr, unbuffered, so every line
 * before the acknowledgement's answer is an error of this batch (its stdout, block-buffered
 * prompts, is discarded). Each batch carries its own number, so a late answer is never taken for
 * the current one.
 *
 * <p>A batch not acknowledged within the timeout fails, and the process is killed (its state is
 * unknown); a process that died is replaced at the next batch, with a log line. Called from one
 * thread at a time (the firewall thread). Not final so that tests can record batches instead.
 */
class IpsetChannel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IpsetChannel.class);
    // Only kills overdue processes; a daemon thread, so it never keeps the JVM alive.
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread t = new Thread(task, "ftpgate-ipset-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final List<String> argv;
    private final IpsetRules rules;
    private final Duration timeout;
    private final CommandRunner runner;
    private Process process;
    private OutputStream stdin;
    private BufferedReader stderr;
    private int sequence;
    /** Why the last process was given up, for the log line when the next one starts; null if none was. */
    private String lost;

    /**
     * @param argv the command line of the conversation, e.g. {@code [ipset, -exist, -]}
     * @param timeout how long one batch may wait for its acknowledgement
     */
    IpsetChannel(List<String> argv, IpsetRules rules, Duration timeout, CommandRunner runner) {
        this.argv = List.copyOf(argv);
        this.rules = Objects.requireNonNull(rules, "rules");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /**
     * Runs the lines and waits for their acknowledgement.
     *
     * @throws FirewallException if a line failed (the message has ipset's words), or no
     *     acknowledgement came within the timeout, or the process could not be started or died
     */
    void execute(List<String> lines) throws FirewallException {
        ensureRunning();
        int batch = nextSequence();
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(line).append('\n');
        }
        text.append(rules.sentinel(batch)).append('\n');
        Process current = process;
        // Set before the kill, so that the EOF the kill causes is never taken for a crash.
        AtomicBoolean overdue = new AtomicBoolean();
        ScheduledFuture<?> kill = WATCHDOG.schedule(() -> {
            overdue.set(true);
            current.destroyForcibly();
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        List<String> errors = new ArrayList<>();
        try {
            stdin.write(text.toString().getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            while (true) {
                String line = stderr.readLine();
                if (line == null) {
                    throw ended(lines, errors, overdue.get());
                }
                int acknowledged = IpsetRules.acknowledged(line);
                if (acknowledged == batch) {
                    break;
                } else if (acknowledged >= 0) {
                    errors.clear(); // the answer of an earlier batch: what came before it was that batch's
                } else if (line.startsWith("Warning:")) {
                    LOG.debug("ipset: {}", line);
                } else if (!line.isBlank()) {
                    errors.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw ended(lines, errors, overdue.get());
        } finally {
            kill.cancel(false);
        }
        if (!errors.isEmpty()) {
            throw new FirewallException("ipset refused " + String.join("; ", lines) + ": " + String.join("; ", errors));
        }
    }

    /** Ends the process (closing its stdin ends interactive mode) and waits briefly for it. */
    @Override
    public void close() {
        if (process == null) {
            return;
        }
        try {
            stdin.close();
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    private void ensureRunning() throws FirewallException {
        if (process != null && process.isAlive()) {
            return;
        }
        if (process != null) {
            lost = describeExit(process);
        }
        if (lost != null) {
            LOG.warn("ipset channel: the process ended ({}); starting a new one", lost);
            lost = null;
        }
        try {
            process = runner.startConversation(argv);
        } catch (IOException e) {
            process = null;
            throw new FirewallException("cannot start " + IptablesRules.commandLine(argv) + ": " + e.getMessage(), e);
        }
        stdin = process.getOutputStream();
        stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        LOG.debug("ipset channel: started {} (pid {})", IptablesRules.commandLine(argv), process.pid());
    }

    /** Gives the process up (the next batch starts a new one) and says why the batch failed. */
    private FirewallException ended(List<String> lines, List<String> errors, boolean killed) {
        Process dead = process;
        process = null;
        dead.destroyForcibly();
        try {
            dead.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String said = errors.isEmpty() ? "" : ": " + String.join("; ", errors);
        if (killed) {
            lost = "killed: no acknowledgement within " + timeout.toMillis() + " ms";
            LOG.warn("ipset channel: no acknowledgement within {} ms; the process was killed", timeout.toMillis());
            return new FirewallException("ipset did not acknowledge " + String.join("; ", lines) + " within "
                    + timeout.toMillis() + " ms" + said, null, FirewallException.Residue.NONE, true);
        }
        lost = describeExit(dead);
        return new FirewallException("ipset ended (" + lost + ") before acknowledging "
                + String.join("; ", lines) + said);
    }

    private static String describeExit(Process p) {
        return p.isAlive() ? "still running" : "exit " + p.exitValue();
    }

    private int nextSequence() {
        sequence = sequence % 65_535 + 1;
        return sequence;
    }
}
