package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.Topology;

/**
 * The scale of one gateway ({@code Benchmark --scale}): ftpgate (the shaded jar, default relay,
 * iptables backend, {@code -Xmx512m}) between {@link ScaleClients} in the client namespace and
 * {@link ScaleFtpServer} in the server namespace. First N idle control sessions (two sockets each
 * in ftpgate): RSS and heap after GC before and while they are open, and the bytes per session;
 * then M passive downloads running at once (four sockets and up to four pipe descriptors each):
 * RSS and heap with all of them open, the TCP connections ftpgate's namespace has established
 * then, ftpgate's CPU time, and whether every one ended with exactly its size and a {@code 226}.
 *
 * <p>A warm-up of a tenth of the idle sessions (at most 1,000) and 20 transfers, opened and closed,
 * comes first and is not measured.
 *
 * <p>Both counts are capped by the hard open-files limit this JVM inherits (ftpgate inherits the
 * same; raising it needs CAP_SYS_RESOURCE): the report says so, and what was measured instead.
 */
final class ScaleRun {

    /** What to measure: {@code --scale [--short] [--idle N] [--active M] [--active-mib S] [--out FILE]}. */
    record Options(int idle, int active, long activeBytes, Path out) {
        static final String USAGE = "--scale [--short] [--idle N] [--active M] [--active-mib S] [--out FILE]";

        static Options parse(List<String> args) {
            Options o = new Options(50_000, 2_000, 2L << 20, Path.of("target", "bench", "scale.md"));
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                o = switch (arg) {
                    case "--scale" -> o;
                    case "--short" -> new Options(500, 50, 2L << 20, o.out);
                    case "--idle" -> new Options(number(args, ++i), o.active, o.activeBytes, o.out);
                    case "--active" -> new Options(o.idle, number(args, ++i), o.activeBytes, o.out);
                    case "--active-mib" -> new Options(o.idle, o.active, (long) number(args, ++i) << 20, o.out);
                    case "--out" -> new Options(o.idle, o.active, o.activeBytes, Path.of(value(args, ++i)));
                    default -> throw new IllegalArgumentException("unknown argument " + arg + " (" + USAGE + ")");
                };
            }
            return o;
        }

        private static String value(List<String> args, int i) {
            if (i >= args.size()) {
                throw new IllegalArgumentException(args.get(i - 1) + " needs a value (" + USAGE + ")");
            }
            return args.get(i);
        }

        private static int number(List<String> args, int i) {
            int n = Integer.parseInt(value(args, i));
            if (n < 1) {
                throw new IllegalArgumentException(args.get(i - 1) + " must be at least 1, not " + n);
            }
            return n;
        }
    }

    /** Memory figures in MiB; per-session figures in bytes. */
    record Idle(int asked, int sessions, double rssBefore, double heapBefore, double rssIdle, double heapIdle) {
        double rssBytesPerSession() {
            return (rssIdle - rssBefore) * (1 << 20) / sessions;
        }

        double heapBytesPerSession() {
            return (heapIdle - heapBefore) * (1 << 20) / sessions;
        }
    }

    record Active(int asked, int transfers, long bytesEach, int alive, int established, double rssBefore, double heapBefore,
                  double rssAlive, double heapAlive, double cpuSeconds, double drainSeconds, String done) {
    }

    /** ftpgate's descriptors per idle session (client and upstream socket) and per transfer (plus two data sockets and two pipes). */
    static final int FDS_PER_IDLE = 2;
    static final int FDS_PER_TRANSFER = 8;
    /** Local ports for ftpgate's upstream and server-leg connections, and for the clients: room for more than 28,000. */
    static final String PORT_RANGE = "10000 65000";

    private ScaleRun() {
    }

    static String run(Options options) {
        Instant start = Instant.now();
        long hardLimit = hardOpenFilesLimit();
        int idle = (int) Math.min(options.idle(), (hardLimit - 1_000) / FDS_PER_IDLE);
        int active = (int) Math.min(options.active(), (hardLimit - 1_000) / FDS_PER_TRANSFER);
        Idle idleFigures;
        Active activeFigures;
        String relayLine;
        String histogram;
        try (Topology topology = Topology.create(Topology.Kind.GATEWAY)) {
            for (String ns : List.of(topology.client, topology.gateway)) {
                topology.exec(ns, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=" + PORT_RANGE).orThrow();
            }
            Path log = topology.workDir().resolve("scale.log");
            String cp = System.getProperty("java.class.path");
            Process serverProcess = topology.startInteractive(topology.server, log, Topology.JAVA, "-Xmx256m", "-cp", cp,
                    ScaleFtpServer.class.getName(), Topology.SERVER_V4, "21", String.valueOf(options.activeBytes()));
            Dialogue server = new Dialogue(serverProcess, log);
            server.ask(null, "LISTENING");
            FtpGateDaemon daemon = FtpGateDaemon.start(topology, List.of(Topology.JAVA, "-Xmx512m"), String.join("\n",
                    "  control.max-sessions = " + (Math.max(idle, active) + 1_000),
                    "  data.port-range = \"40000-44999\""));
            relayLine = daemon.log().lines().filter(l -> l.contains("ftpgate ready")).findFirst().orElse("?");
            long pid = daemon.pid();
            Process clientProcess = topology.startInteractive(topology.client, log, Topology.JAVA, "-Xmx1g", "-cp", cp,
                    ScaleClients.class.getName(), FtpGateDaemon.V4.host(), String.valueOf(FtpGateDaemon.V4.port()),
                    Topology.CLIENT_V4);
            Dialogue clients = new Dialogue(clientProcess, log);

            // Warm-up, not measured: class loading, JIT, Netty's buffer pools and the heap's first growth
            // come with the first sessions and would otherwise be charged to the measured ones.
            int warmUp = Math.max(1, Math.min(1_000, idle / 10));
            log("warm-up: " + warmUp + " idle sessions and " + Math.min(active, 20) + " transfers, opened and closed");
            clients.ask("idle " + warmUp, "READY " + warmUp);
            clients.ask("close", "CLOSED");
            clients.ask("active " + Math.min(active, 20) + " " + options.activeBytes(), "ALIVE ");
            server.ask("release", "RELEASED");
            clients.ask("drain", "DONE ");
            clients.ask("close", "CLOSED");
            server.ask("hold", "HELD");
            awaitEstablishedBelow(topology, 50);
            log("idle: " + idle + " sessions");
            double heap0 = IdleSessionMemory.heapAfterGcMiB(topology, pid);
            double rss0 = IdleSessionMemory.rssMiB(pid);
            clients.ask("idle " + idle, "READY " + idle);
            double heap1 = IdleSessionMemory.heapAfterGcMiB(topology, pid);
            double rss1 = IdleSessionMemory.rssMiB(pid);
            histogram = topology.exec(topology.gateway, "jcmd", String.valueOf(pid), "GC.class_histogram").orThrow()
                    .stdout().lines().limit(23).collect(java.util.stream.Collectors.joining("\n"));
            idleFigures = new Idle(options.idle(), idle, rss0, heap0, rss1, heap1);
            clients.ask("close", "CLOSED");
            awaitEstablishedBelow(topology, 50);

            log("active: " + active + " transfers of " + Benchmark.size(options.activeBytes()));
            double heap2 = IdleSessionMemory.heapAfterGcMiB(topology, pid);
            double rss2 = IdleSessionMemory.rssMiB(pid);
            long ticks0 = CpuTime.ticks(pid);
            String alive = clients.ask("active " + active + " " + options.activeBytes(), "ALIVE ");
            int established = established(topology);
            double heap3 = IdleSessionMemory.heapAfterGcMiB(topology, pid);
            double rss3 = IdleSessionMemory.rssMiB(pid);
            long drainStart = System.nanoTime();
            server.ask("release", "RELEASED");
            String done = clients.ask("drain", "DONE ");
            double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
            double cpu = (CpuTime.ticks(pid) - ticks0) / (double) CpuTime.TICKS_PER_SECOND;
            clients.ask("close", "CLOSED");
            daemon.assertAlive();
            activeFigures = new Active(options.active(), active, options.activeBytes(),
                    Integer.parseInt(alive.split(" ")[1]), established, rss2, heap2, rss3, heap3, cpu, drainSeconds, done);
            clientProcess.getOutputStream().close();
            serverProcess.destroy();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String report = report(start, hardLimit, relayLine, idleFigures, activeFigures)
                + "\nftpgate's heap with the idle sessions open, largest classes (`jcmd GC.class_histogram`):\n\n```\n"
                + histogram + "\n```\n";
        Benchmark.write(options.out(), report);
        return report;
    }

    private static String report(Instant start, long hardLimit, String relayLine, Idle idle, Active active) {
        StringBuilder out = new StringBuilder();
        out.append("## ftpgate scale of one gateway, ").append(start.truncatedTo(ChronoUnit.SECONDS)).append("\n\n");
        out.append(MachineInfo.describe());
        out.append("- setup: client 198.51.100.2 (`ScaleClients`) → ftpgate (shaded jar, `-Xmx512m`, iptables backend, default"
                + " relay) → `ScaleFtpServer` 203.0.113.2:21, each in a namespace; `ip_local_port_range` " + PORT_RANGE
                + " in the client and gateway namespaces\n");
        out.append("- ftpgate said: `").append(relayLine.replaceAll(".*(ftpgate ready)", "$1")).append("`\n");
        out.append(String.format(Locale.ROOT, "- hard open-files limit here: %d", hardLimit));
        if (idle.sessions() < idle.asked() || active.transfers() < active.asked()) {
            out.append(String.format(Locale.ROOT, "; asked for %d idle sessions and %d transfers, measured %d and %d"
                    + " (%d descriptors per idle session, up to %d per transfer, must fit; raising the limit needs"
                    + " CAP_SYS_RESOURCE)", idle.asked(), active.asked(), idle.sessions(), active.transfers(),
                    FDS_PER_IDLE, FDS_PER_TRANSFER));
        }
        out.append("\n\n| idle sessions | RSS MiB | heap after GC MiB |\n|---:|---:|---:|\n");
        out.append(String.format(Locale.ROOT, "| 0 | %.1f | %.1f |%n| %d | %.1f | %.1f |%n", idle.rssBefore(), idle.heapBefore(),
                idle.sessions(), idle.rssIdle(), idle.heapIdle()));
        out.append(String.format(Locale.ROOT, "%nper idle session: %.0f bytes RSS, %.0f bytes heap; %d sessions at that rate:"
                        + " %.0f MiB RSS%n", idle.rssBytesPerSession(), idle.heapBytesPerSession(), idle.asked(),
                idle.rssBefore() + idle.rssBytesPerSession() * idle.asked() / (1 << 20)));
        out.append(String.format(Locale.ROOT, "%n| active transfers | started (150, data connected) | TCP connections"
                        + " established in ftpgate's namespace | RSS MiB before / all running | heap MiB before / all running"
                        + " | ftpgate CPU s | drain s | result |%n|---:|---:|---:|---:|---:|---:|---:|---|%n"
                        + "| %d × %s | %d | %d | %.1f / %.1f | %.1f / %.1f | %.1f | %.1f | %s |%n",
                active.transfers(), Benchmark.size(active.bytesEach()), active.alive(), active.established(),
                active.rssBefore(), active.rssAlive(), active.heapBefore(), active.heapAlive(), active.cpuSeconds(),
                active.drainSeconds(), active.done()));
        return out.toString();
    }

    /** One command line to {@link ScaleClients}, one answer line back, which must start with {@code expected}. */
    private static final class Dialogue {
        private final PrintWriter in;
        private final BufferedReader out;
        private final Path log;

        Dialogue(Process process, Path log) {
            this.in = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.log = log;
        }

        /** @param command null to read the next line only */
        String ask(String command, String expected) throws IOException {
            if (command != null) {
                in.println(command);
            }
            String answer = out.readLine();
            if (answer == null || !answer.startsWith(expected)) {
                throw new BenchSetup.BenchFailure("'" + command + "' answered '" + answer + "'; log:\n" + Files.readString(log));
            }
            return answer;
        }
    }

    /** TCP connections in state ESTABLISHED in the gateway namespace (both legs of every session and transfer). */
    private static int established(Topology topology) {
        String out = topology.exec(topology.gateway, "ss", "-Htn", "state", "established").orThrow().stdout();
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    private static void awaitEstablishedBelow(Topology topology, int count) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (established(topology) >= count) {
            if (System.nanoTime() > deadline) {
                throw new BenchSetup.BenchFailure("ftpgate still holds " + established(topology) + " connections a minute after the clients closed");
            }
            sleep(500);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchSetup.BenchFailure("interrupted");
        }
    }

    /** The hard RLIMIT_NOFILE this JVM inherited (ftpgate, started from it, inherits the same). */
    static long hardOpenFilesLimit() {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream()
                    .filter(l -> l.startsWith("Max open files"))
                    .map(l -> l.substring("Max open files".length()).trim().split("\\s+")[1])
                    .map(hard -> hard.equals("unlimited") ? Long.MAX_VALUE / 2 : Long.parseLong(hard))
                    .findFirst().orElse(Long.MAX_VALUE / 2);
        } catch (IOException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    private static void log(String line) {
        System.out.println("[scale " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + line);
    }
}
