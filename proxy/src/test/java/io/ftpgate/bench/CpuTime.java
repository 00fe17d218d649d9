package io.ftpgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What a process's threads got of the CPUs: CPU time, utime + stime of {@code /proc/PID/stat} (all threads) in
 * clock ticks; its JIT compiler threads' share; and the time its threads waited in a run queue.
 */
final class CpuTime {

    /** {@code getconf CLK_TCK}: the unit of utime and stime; 100 on Linux (USER_HZ) unless getconf says otherwise. */
    static final long TICKS_PER_SECOND = clockTicks();

    private CpuTime() {
    }

    static long ticks(long pid) {
        try {
            return utimePlusStime(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
        } catch (IOException e) {
            throw new BenchSetup.BenchFailure("cannot read the CPU time of pid " + pid + ": " + e);
        }
    }

    /** utime + stime of a {@code stat} file of /proc, process or thread, in clock ticks. */
    private static long utimePlusStime(String stat) {
        // proc(5): after "pid (comm) ", field 3 (state) comes first; utime and stime are fields 14 and 15.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    }

    /**
     * CPU time of a JVM's JIT compiler threads ({@code C1 CompilerThre…}, {@code C2 CompilerThre…}),
     * utime + stime of each {@code /proc/PID/task/TID/stat}, in clock ticks; threads that ended
     * meanwhile are not counted.
     */
    static long compilerTicks(long pid) {
        return sumOverThreads(pid, task -> {
            String comm = Files.readString(task.resolve("comm"));
            if (!comm.startsWith("C") || !comm.contains("CompilerThre")) {
                return 0;
            }
            return utimePlusStime(Files.readString(task.resolve("stat")));
        });
    }

    /**
     * How long each thread of a process was runnable but waited for a CPU so far, in nanoseconds, by thread id:
     * the second field of {@code /proc/PID/task/TID/schedstat} ({@code sched_info.run_delay}; the first is the
     * time on a CPU, the third the number of times it got one). {@code /proc/PID/schedstat} alone would be the
     * main thread's only.
     */
    static Map<String, Long> runQueueWaitNanos(long pid) {
        Map<String, Long> waits = new HashMap<>();
        sumOverThreads(pid, task -> {
            String[] fields = Files.readString(task.resolve("schedstat")).strip().split(" ");
            waits.put(task.getFileName().toString(), Long.parseLong(fields[1]));
            return 0;
        });
        return waits;
    }

    /**
     * How long the threads waited for a CPU between two {@link #runQueueWaitNanos(long)} of one process: a thread
     * started meanwhile counts whole, one that ended meanwhile not at all (its time is gone with it).
     */
    static long runQueueWaitNanos(Map<String, Long> before, Map<String, Long> after) {
        return after.entrySet().stream().mapToLong(e -> e.getValue() - before.getOrDefault(e.getKey(), 0L)).sum();
    }

    private interface PerThread {
        long of(Path task) throws IOException;
    }

    private static long sumOverThreads(long pid, PerThread perThread) {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    sum += perThread.of(task);
                } catch (IOException e) {
                    // the thread ended (the JVM stops idle compiler threads): its time is gone with it
                }
            }
        } catch (IOException e) {
            throw new BenchSetup.BenchFailure("cannot read the threads of pid " + pid + ": " + e);
        }
        return sum;
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            return p.waitFor() == 0 ? Long.parseLong(out) : 100;
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
