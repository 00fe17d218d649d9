package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * How long wake-ups waited for a CPU during a session run ({@code --sched}): {@code perf sched record}
 * over the whole machine while the run lasts, then {@code perf sched timehist}, whose "sch delay"
 * column is the time a task spent runnable, waiting in a run queue, before it ran. Grouped by who
 * waits: the server (vsftpd's processes), the kernel's deferred network work ({@code ksoftirqd/N}),
 * the clients ({@code SessionLoad}'s {@code session-N} threads) and the relay (every thread of the
 * ftpgate JVM or HAProxy, by process id). With 16 clients on a machine whose CPUs the clients, the
 * server and the gateway share, this says whose waiting makes a session's tail.
 */
final class SchedDelays {

    /** The groups, in the order the report prints them. */
    static final List<String> GROUPS = List.of("server", "softirq", "clients", "relay");

    /** One wait figure of a group: wake-ups (context switches in) and their run-queue delays, ms. */
    record Delays(int wakeUps, double p99, double p999, double max, double sum) {
        String describe() {
            return String.format(Locale.ROOT, "n=%d p99=%.2f p99.9=%.2f max=%.1f sum=%.0f", wakeUps, p99, p999, max, sum);
        }
    }

    /** A timehist line: time, [cpu], task[tid/pid] or task[pid], wait time, sch delay, run time (ms). */
    private static final Pattern LINE = Pattern.compile(
            "^\\s*\\d+\\.\\d+\\s+\\[\\d+]\\s+(.+?)\\[(\\d+)(?:/(\\d+))?]\\s+(\\d+\\.\\d+)\\s+(\\d+\\.\\d+)\\s+(\\d+\\.\\d+)\\s*$");

    private SchedDelays() {
    }

    /** The group a task belongs to, or null. */
    static String group(String comm, long pid, long relayPid) {
        if (relayPid > 0 && pid == relayPid) {
            return "relay";
        }
        if (comm.equals("vsftpd")) {
            return "server";
        }
        if (comm.startsWith("ksoftirqd/")) {
            return "softirq";
        }
        if (comm.startsWith("session-")) {
            return "clients";
        }
        return null;
    }

    /** Run-queue delays by group from {@code perf sched timehist} output; groups without a wake-up are left out. */
    static Map<String, Delays> parse(Stream<String> timehist, long relayPid) {
        Map<String, List<Double>> delays = new LinkedHashMap<>();
        GROUPS.forEach(g -> delays.put(g, new ArrayList<>()));
        timehist.forEach(line -> {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                return;
            }
            long pid = Long.parseLong(m.group(3) != null ? m.group(3) : m.group(2));
            String g = group(m.group(1).strip(), pid, relayPid);
            if (g != null) {
                delays.get(g).add(Double.parseDouble(m.group(5)));
            }
        });
        Map<String, Delays> out = new LinkedHashMap<>();
        delays.forEach((g, list) -> {
            if (!list.isEmpty()) {
                double[] v = list.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                out.put(g, new Delays(v.length, quantile(v, 0.99), quantile(v, 0.999), v[v.length - 1],
                        Arrays.stream(v).sum()));
            }
        });
        return out;
    }

    private static double quantile(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }

    /** Whether {@code perf} is there to record with; the reason if not. */
    static String unavailable() {
        try {
            Process p = new ProcessBuilder("perf", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "perf --version failed";
        } catch (IOException e) {
            return "no perf (Debian: linux-perf): " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** A {@code perf sched record} of the whole machine, from {@link #start} until {@link #stop}. */
    static final class Recording {
        private final Process perf;
        private final Path file;

        private Recording(Process perf, Path file) {
            this.perf = perf;
            this.file = file;
        }

        /**
         * Stops recording and reads the delays ({@code relayPid}: the relay's process, -1 if none).
         * The recording's file is deleted (tens of MB per second of 16-client load).
         */
        Map<String, Delays> stop(long relayPid) {
            try {
                perf.destroy(); // SIGTERM: perf record stops its workload and writes the file
                if (!perf.waitFor(60, TimeUnit.SECONDS)) {
                    perf.destroyForcibly();
                    throw new BenchSetup.BenchFailure("perf sched record did not stop");
                }
                Process timehist = new ProcessBuilder("perf", "sched", "timehist", "-i", file.toString())
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                Map<String, Delays> delays;
                try (BufferedReader r = new BufferedReader(new InputStreamReader(timehist.getInputStream(), StandardCharsets.UTF_8))) {
                    delays = parse(r.lines(), relayPid);
                }
                timehist.waitFor(60, TimeUnit.SECONDS);
                return delays;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BenchSetup.BenchFailure("interrupted");
            } finally {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a file in the build directory
                }
            }
        }
    }

    /** Starts {@code perf sched record} into {@code file}; returns once it records. */
    static Recording start(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            Process perf = new ProcessBuilder("perf", "sched", "record", "-o", file.toString(), "--", "sleep", "3600")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(Files.exists(file) && Files.size(file) > 0)) {
                if (!perf.isAlive() || System.nanoTime() > deadline) {
                    perf.destroyForcibly();
                    throw new BenchSetup.BenchFailure("perf sched record did not start (exit "
                            + (perf.isAlive() ? "none" : perf.exitValue()) + ")");
                }
                Thread.sleep(50);
            }
            Thread.sleep(200); // its events are enabled once the header is written
            return new Recording(perf, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchSetup.BenchFailure("interrupted");
        }
    }
}
