package io.ftpgate.firewall.process;

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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived command-line process in interactive mode ({@code ipset -exist -}, {@code nft -i}),
 * started through {@link CommandRunner#startConversation}, that carries every lease change: a batch
 * of lines is written to its stdin followed by an acknowledgement line ({@link Acknowledgement#line}),
 * and the batch is done when the answer to that line appears on stderr. Both tools execute each
 * line at once, keep going after an error and write errors to stderr, unbuffered; so every stderr
 * line before the acknowledgement's answer belongs to this batch (stdout, block-buffered prompts,
 * is discarded). Each batch carries its own number, so a late answer is never taken for the
 * current one.
 *
 * <p>A batch not acknowledged within the timeout fails, and the process is killed (its state is
 * unknown); a process that died is replaced at the next batch, with a log line. Called from one
 * thread at a time (the firewall thread).
 */
public final class Conversation implements AutoCloseable {

    /** How one tool is asked for, and gives, an acknowledgement. */
    public interface Acknowledgement {

        /** The line that asks for the acknowledgement of batch {@code sequence} (1 to 65535). */
        String line(int sequence);

        /** The batch number a stderr line acknowledges, or -1 if it is not an acknowledgement. */
        int acknowledged(String stderrLine);

        /** The acknowledgement made of its two functions, e.g. {@code of(rules::sentinel, Rules::acknowledged)}. */
        static Acknowledgement of(java.util.function.IntFunction<String> line,
                java.util.function.ToIntFunction<String> acknowledged) {
            return new Acknowledgement() {
                @Override
                public String line(int sequence) {
                    return line.apply(sequence);
                }

                @Override
                public int acknowledged(String stderrLine) {
                    return acknowledged.applyAsInt(stderrLine);
                }
            };
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Conversation.class);

    private final String tool;
    private final List<String> argv;
    private final Acknowledgement acknowledgement;
    private final Duration timeout;
    private final CommandRunner runner;
    private final java.util.Map<String, String> environment;
    private final int linesPerProcess;
    private Process process;
    /** Lines the current process has been given. */
    private int given;
    private OutputStream stdin;
    private BufferedReader stderr;
    private int sequence;
    /** Why the last process was given up, for the log line when the next one starts; null if none was. */
    private String lost;

    /**
     * @param tool the tool's name for messages, e.g. {@code ipset}
     * @param argv the command line of the conversation, e.g. {@code [ipset, -exist, -]}
     * @param timeout how long one batch may wait for its acknowledgement
     */
    public Conversation(String tool, List<String> argv, Acknowledgement acknowledgement, Duration timeout,
            CommandRunner runner) {
        this(tool, argv, acknowledgement, timeout, runner, java.util.Map.of(), 0);
    }

    /**
     * @param environment set for the process on top of ours
     * @param linesPerProcess after a batch that brought the process to this many lines, it is ended
     *     and the next batch starts a new one (0: never); for tools that get slower with every line
     */
    public Conversation(String tool, List<String> argv, Acknowledgement acknowledgement, Duration timeout,
            CommandRunner runner, java.util.Map<String, String> environment, int linesPerProcess) {
        this.environment = java.util.Map.copyOf(environment);
        this.linesPerProcess = linesPerProcess;
        this.tool = Objects.requireNonNull(tool, "tool");
        this.argv = List.copyOf(argv);
        this.acknowledgement = Objects.requireNonNull(acknowledgement, "acknowledgement");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /**
     * Writes the lines, waits for their acknowledgement and returns what the process said on
     * stderr meanwhile (its complaints about this batch), blank lines left out.
     *
     * @throws FirewallException if no acknowledgement came within the timeout (then
     *     {@link FirewallException#timedOut()}), or the process could not be started or died
     */
    public List<String> exchange(List<String> lines) throws FirewallException {
        ensureRunning();
        int batch = nextSequence();
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(line).append('\n');
        }
        text.append(acknowledgement.line(batch)).append('\n');
        ExchangeWatchdog.Watch watch = ExchangeWatchdog.watch(process, timeout.toNanos());
        List<String> said = new ArrayList<>();
        try {
            stdin.write(text.toString().getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            while (true) {
                String line = stderr.readLine();
                if (line == null) {
                    throw ended(lines, said, watch.overdue());
                }
                int acknowledged = acknowledgement.acknowledged(line);
                if (acknowledged == batch) {
                    given += lines.size() + 1;
                    if (linesPerProcess > 0 && given >= linesPerProcess) {
                        renew();
                    }
                    return said;
                } else if (acknowledged >= 0) {
                    said.clear(); // the answer of an earlier batch: what came before it was that batch's
                } else if (!line.isBlank()) {
                    said.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw ended(lines, said, watch.overdue());
        } finally {
            ExchangeWatchdog.release(watch);
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

    /**
     * Ends the process after its share of lines and starts the next one now, so that its start
     * overlaps the time until the next batch; if that fails, the next batch tries again (and says why).
     */
    private void renew() {
        LOG.debug("{} channel: {} lines done, starting a new process", tool, given);
        close();
        try {
            ensureRunning();
        } catch (FirewallException e) {
            LOG.debug("{} channel: {}", tool, e.getMessage());
        }
    }

    private void ensureRunning() throws FirewallException {
        if (process != null && process.isAlive()) {
            return;
        }
        if (process != null) {
            lost = describeExit(process);
        }
        if (lost != null) {
            LOG.warn("{} channel: the process ended ({}); starting a new one", tool, lost);
            lost = null;
        }
        try {
            process = runner.startConversation(argv, environment);
            given = 0;
        } catch (IOException e) {
            process = null;
            throw new FirewallException("cannot start " + CommandRunner.commandLine(argv) + ": " + e.getMessage(), e);
        }
        stdin = process.getOutputStream();
        stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        LOG.debug("{} channel: started {} (pid {})", tool, CommandRunner.commandLine(argv), process.pid());
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
            LOG.warn("{} channel: no acknowledgement within {} ms; the process was killed", tool, timeout.toMillis());
            return new FirewallException(tool + " did not acknowledge " + String.join("; ", lines) + " within "
                    + timeout.toMillis() + " ms" + said, null, FirewallException.Residue.NONE, true);
        }
        lost = describeExit(dead);
        return new FirewallException(tool + " ended (" + lost + ") before acknowledging "
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
