package io.ftpgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of a process, all its threads: utime + stime of {@code /proc/PID/stat}, in clock ticks. */
final class CpuTime {

    /** {@code getconf CLK_TCK}: the unit of utime and stime; 100 on Linux (USER_HZ) unless getconf says otherwise. */
    static final long TICKS_PER_SECOND = clockTicks();

    private CpuTime() {
    }

    static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // proc(5): after "pid (comm) ", field 3 (state) comes first; utime and stime are fields 14 and 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
        } catch (IOException e) {
            throw new BenchSetup.BenchFailure("cannot read the CPU time of pid " + pid + ": " + e);
        }
    }

    /**
     * CPU time of a JVM's JIT compiler threads ({@code C1 CompilerThre…}, {@code C2 CompilerThre…}),
     * utime + stime of each {@code /proc/PID/task/TID/stat}, in clock ticks; threads that ended
     * meanwhile are not counted.
     */
    static long compilerTicks(long pid) {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).startsWith("C")
                            && Files.readString(task.resolve("comm")).contains("CompilerThre")) {
                        String stat = Files.readString(task.resolve("stat"));
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        sum += Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
                    }
                } catch (IOException e) {
                    // the compiler thread ended (the JVM stops idle ones): its time is gone with it
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
