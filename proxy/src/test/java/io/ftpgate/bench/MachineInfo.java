package io.ftpgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.ftpgate.testing.Topology;

/** What the figures were measured on, as Markdown list items. */
final class MachineInfo {

    private MachineInfo() {
    }

    static String describe() {
        return "- machine: nproc " + Runtime.getRuntime().availableProcessors()
                + ", " + firstLine("/proc/cpuinfo", "model name").replaceFirst("model name\\s*:\\s*", "")
                + ", kernel " + read("/proc/sys/kernel/osrelease")
                + ", load average at start " + read("/proc/loadavg").split(" ", 4)[0] + " (1 min)\n"
                + "- java: " + javaVersion() + "\n";
    }

    private static String javaVersion() {
        try {
            Process p = new ProcessBuilder(Topology.JAVA, "-version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor();
            return String.join("; ", out.lines().toList());
        } catch (IOException e) {
            return "unknown (" + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static String firstLine(String file, String prefix) {
        try {
            return Files.readAllLines(Path.of(file)).stream().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
