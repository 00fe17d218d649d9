package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ftpgate.testing.Topology;

/**
 * ftpgate's memory with N idle control sessions: {@link ScaleFtpServer} in the server namespace,
 * {@link ScaleClients} in the client namespace through ftpgate's idle listener. RSS is VmRSS from
 * {@code /proc/PID/status} and heap the used heap, both read after {@code jcmd PID GC.run}, before the
 * sessions are opened and while they are open.
 */
final class IdleSessionMemory {

    /** Figures in MiB. */
    record Figures(int sessions, double rssBefore, double heapBefore, double rssIdle, double heapIdle) {
        double rssKibPerSession() {
            return (rssIdle - rssBefore) * 1024 / sessions;
        }

        double heapKibPerSession() {
            return (heapIdle - heapBefore) * 1024 / sessions;
        }
    }

    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private IdleSessionMemory() {
    }

    static Figures measure(BenchSetup setup, int sessions) {
        Topology topology = setup.topology;
        Path log = topology.workDir().resolve("idle.log");
        String cp = System.getProperty("java.class.path");
        Process server = topology.startInteractive(topology.server, log, Topology.JAVA, "-Xmx256m", "-cp", cp,
                ScaleFtpServer.class.getName(), Topology.SERVER_V4, String.valueOf(BenchSetup.IDLE_SERVER_PORT), "0");
        expectLine(server, "LISTENING", log);
        // Always GC first, then read both: a full GC may also shrink the committed heap.
        double heapBefore = heapAfterGcMiB(topology, setup.daemon.pid());
        double rssBefore = rssMiB(setup.daemon.pid());
        Process clients = topology.startInteractive(topology.client, log, Topology.JAVA, "-Xmx512m", "-cp", cp,
                ScaleClients.class.getName(), BenchSetup.IDLE_LISTENER.host(), String.valueOf(BenchSetup.IDLE_LISTENER.port()),
                Topology.CLIENT_V4);
        try {
            ask(clients, "idle " + sessions);
            expectLine(clients, "READY " + sessions, log);
            double heapIdle = heapAfterGcMiB(topology, setup.daemon.pid());
            double rssIdle = rssMiB(setup.daemon.pid());
            return new Figures(sessions, rssBefore, heapBefore, rssIdle, heapIdle);
        } finally {
            try {
                clients.getOutputStream().close();
            } catch (IOException ignored) {
                // it has exited already
            }
            waitFor(clients);
            server.destroy();
            waitFor(server);
        }
    }

    private static void ask(Process process, String command) {
        try {
            process.getOutputStream().write((command + "\n").getBytes(StandardCharsets.US_ASCII));
            process.getOutputStream().flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void expectLine(Process process, String expected, Path log) {
        try {
            String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (!expected.equals(line)) {
                throw new BenchSetup.BenchFailure("expected '" + expected + "', got '" + line + "'; log:\n" + Files.readString(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void waitFor(Process process) {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static double rssMiB(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
                    .filter(l -> l.startsWith("VmRSS:"))
                    .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024.0)
                    .findFirst().orElseThrow(() -> new BenchSetup.BenchFailure("no VmRSS for pid " + pid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double heapAfterGcMiB(Topology topology, long pid) {
        topology.exec(topology.gateway, "jcmd", String.valueOf(pid), "GC.run").orThrow();
        String info = topology.exec(topology.gateway, "jcmd", String.valueOf(pid), "GC.heap_info").orThrow().stdout();
        Matcher m = HEAP_USED.matcher(info);
        if (!m.find()) {
            throw new BenchSetup.BenchFailure("no 'used NK' in GC.heap_info:\n" + info);
        }
        return Long.parseLong(m.group(1)) / 1024.0;
    }
}
