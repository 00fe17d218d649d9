package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for a multi-host recipe test (names fg-ha-PID-N-ROLE), the processes started
 * in them, and a scratch directory for configs and logs. {@link #close()} stops what it started by
 * pid and removes the namespaces, also when the test failed. For the fixed client/gateway/server
 * layout use {@link Topology}.
 */
public final class NetnsLab implements AutoCloseable, NamespaceHosts {
    private static int counter;

    private final String prefix;
    private final Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private int ports;

    private NetnsLab(String prefix, Path dir) {
        this.prefix = prefix;
        this.dir = dir;
    }

    public static synchronized NetnsLab create() {
        try {
            return new NetnsLab("fg-ha-" + ProcessHandle.current().pid() + "-" + (++counter),
                    Files.createTempDirectory("ftpgate-lab-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds namespace PREFIX-{@code role} with loopback up, and returns its name. */
    public synchronized String namespace(String role) {
        String ns = prefix + "-" + role;
        namespaces.add(ns);
        runQuietly(List.of("ip", "netns", "add", ns)).orThrow();
        exec(ns, "ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Bridge {@code bridge} in {@code sw} (made on first use), and a veth from it to {@code dev} of {@code host}, with {@code cidr}. */
    public synchronized void attach(String sw, String bridge, String host, String dev, String cidr) {
        if (tryExec(sw, "ip", "link", "show", bridge).exitCode() != 0) {
            exec(sw, "ip", "link", "add", bridge, "type", "bridge");
            exec(sw, "ip", "link", "set", bridge, "up");
        }
        String port = "p" + (++ports);
        exec(sw, "ip", "link", "add", port, "type", "veth", "peer", "name", dev, "netns", host);
        exec(sw, "ip", "link", "set", port, "master", bridge, "up");
        exec(host, "ip", "addr", "add", cidr, "dev", dev);
        exec(host, "ip", "link", "set", dev, "up");
    }

    public Path write(String name, String text) {
        try {
            return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Path workDir() {
        return dir;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    public String log(String name) {
        try {
            return Files.readString(dir.resolve(name + ".log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Starts a long-running process in {@code ns}, its output in log {@code name}. */
    public Process start(String ns, String name, String... argv) {
        return start(ns, dir.resolve(name + ".log"), argv);
    }

    @Override
    public synchronized Process start(String ns, Path log, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code argv} in {@code ns}; fails on a non-zero exit. */
    public ExecResult exec(String ns, String... argv) {
        return tryExec(ns, argv).orThrow();
    }

    /** Runs {@code argv} in {@code ns}, whatever its exit. */
    @Override
    public ExecResult tryExec(String ns, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        return runQuietly(command);
    }

    private static ExecResult runQuietly(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new ExecResult(argv, ExecResult.TIMED_OUT, out.join(), err.join());
            }
            return new ExecResult(argv, p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGKILL for one process started here (a crash), waiting until it is gone. */
    public static void crash(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public synchronized void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : namespaces) {
            ExecResult pids = runQuietly(List.of("ip", "netns", "pids", ns));
            pids.stdout().lines().map(String::strip).filter(s -> !s.isEmpty())
                    .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
            runQuietly(List.of("ip", "netns", "delete", ns));
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover temp dir is harmless
        }
    }
}
