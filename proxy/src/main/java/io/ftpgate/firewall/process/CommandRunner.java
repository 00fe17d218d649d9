package io.ftpgate.firewall.process;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one class in ftpgate that starts processes. Runs an argument vector directly (no shell, so
 * nothing is ever interpreted), on the caller's thread, with both output streams read to the end by
 * helper threads so a large output can never fill a pipe and deadlock the child. A process still
 * running at its timeout is killed and reported as a failure.
 *
 * <p>{@link #startConversation} starts a long-lived process instead ({@code ipset -}, {@code nft -i}),
 * whose caller writes commands to its stdin and reads answers from its stderr (see
 * {@link Conversation}). Shared by every backend that runs commands ({@code firewall.iptables},
 * {@code firewall.nftables}).
 *
 * <p>Not final so that tests can substitute a scripted runner.
 */
public class CommandRunner {

    /** What a finished (or killed) command left behind. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr, Duration elapsed,
            boolean timedOut) {

        public Result {
            argv = List.copyOf(argv);
        }

        /** Exit code reported for a process killed at its timeout. */
        public static final int KILLED = -1;

        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /**
         * Why it failed, for an error message: exit code or timeout, and stderr (or stdout when
         * stderr is empty: iptables-nft prints some complaints, such as a table holding chains
         * it cannot list, to stdout).
         */
        public String failure() {
            String how = timedOut
                    ? "timed out after " + elapsed.toMillis() + " ms and was killed"
                    : "exit " + exitCode;
            String said = stderr.isBlank() ? firstLines(stdout) : stderr.strip();
            return how + (said.isEmpty() ? "" : ": " + said.replace('\n', ' '));
        }

        private static String firstLines(String text) {
            return text.strip().lines().limit(3).reduce((a, b) -> a + "\n" + b).orElse("");
        }
    }

    // The child gets no input; it must never wait on ours.
    private static final ProcessBuilder.Redirect NO_INPUT = ProcessBuilder.Redirect.from(new File("/dev/null"));
    private static final AtomicInteger READERS = new AtomicInteger();
    // Readers only drain pipes; daemon threads, so a forgotten runner never keeps the JVM alive.
    private static final ExecutorService STREAM_READERS = Executors.newCachedThreadPool(task -> {
        Thread t = new Thread(task, "ftpgate-command-reader-" + READERS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /**
     * Runs the command and waits for it.
     *
     * @param argv program and arguments, as given to {@code execve}
     * @param timeout how long it may run before it is killed
     * @throws IOException if the program cannot be started (e.g. it does not exist)
     */
    public Result run(List<String> argv, Duration timeout) throws IOException {
        return run(argv, timeout, null);
    }

    /**
     * Runs the command with {@code input} (small: a few kilobytes at most, e.g. an
     * {@code iptables-restore} batch) as its standard input, then closed, and waits for it.
     */
    public Result run(List<String> argv, Duration timeout, String input) throws IOException {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        long started = System.nanoTime();
        ProcessBuilder builder = new ProcessBuilder(argv);
        if (input == null) {
            builder.redirectInput(NO_INPUT);
        }
        Process process = builder.start();
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        if (input != null) {
            // Both outputs are drained already, so the child can never block us here.
            try (var stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // The child exited early without reading: its exit code and stderr say why.
            }
        }
        boolean finished;
        try {
            finished = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", argv), e);
        }
        if (!finished) {
            process.destroyForcibly();
            waitQuietly(process);
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        return new Result(argv, finished ? process.exitValue() : Result.KILLED,
                collect(stdout), collect(stderr), elapsed, !finished);
    }

    /**
     * Starts a long-lived process that reads commands on stdin and answers on stderr; its stdout is
     * discarded (a prompt or listing written there can never fill a pipe). The caller owns the
     * process: it writes, reads, and destroys it.
     *
     * @throws IOException if the program cannot be started
     */
    public Process startConversation(List<String> argv) throws IOException {
        return startConversation(argv, java.util.Map.of());
    }

    /** {@link #startConversation(List)} with {@code environment} set on top of ours. */
    public Process startConversation(List<String> argv, java.util.Map<String, String> environment) throws IOException {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        ProcessBuilder builder = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().putAll(environment);
        return builder.start();
    }

    /**
     * Joins arguments for logs and error messages; an argument containing a space is quoted, as
     * {@code iptables -S} quotes the comment.
     */
    public static String commandLine(List<String> argv) {
        StringBuilder line = new StringBuilder();
        for (String arg : argv) {
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(arg.isEmpty() || arg.contains(" ") ? '"' + arg + '"' : arg);
        }
        return line.toString();
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (InputStream in = stream) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                in.transferTo(bytes);
                return bytes.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, STREAM_READERS);
    }

    // After exit the pipes reach EOF at once, unless the program left a child holding them open:
    // then what was read so far is not worth hanging the firewall thread for.
    private static String collect(CompletableFuture<String> output) {
        try {
            return output.get(2, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            output.cancel(true);
            return "(output not closed 2 s after exit)";
        } catch (ExecutionException e) {
            return "(output unreadable: " + e.getCause().getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted while reading output)";
        }
    }

    private static void waitQuietly(Process process) {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
