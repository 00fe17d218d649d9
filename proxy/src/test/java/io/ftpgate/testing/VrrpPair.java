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
 * Recipe 1's network: a client and two gateways on one Ethernet segment (a bridge in a "switch"
 * namespace of its own, so VRRP's multicast never touches the root namespace), each gateway with
 * keepalived (VRRP only) and ftpgate in demo mode (its own embedded FTP server, the same files on
 * both). Namespaces fg-ha-PID-N-{sw,cli,a,b}; {@link #close()} stops what it started by pid and
 * removes them, also when the test failed.
 *
 * <pre>
 *   cli 198.51.100.10 ── sw:br0 ──┬── a 198.51.100.2  (VIP1 .100 MASTER prio 150, VIP2 .101 BACKUP 100)
 *                                 └── b 198.51.100.3  (VIP1 BACKUP 100, VIP2 MASTER 150)
 * </pre>
 */
public final class VrrpPair implements AutoCloseable {
    public static final String CLIENT = "198.51.100.10";
    public static final String VIP1 = "198.51.100.100";
    public static final String VIP2 = "198.51.100.101";
    private static int counter;

    public final String sw;
    public final String client;
    public final String a;
    public final String b;
    private final Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private Process gatewayA;
    private Process gatewayB;

    private VrrpPair(String prefix, Path dir) {
        this.sw = prefix + "-sw";
        this.client = prefix + "-cli";
        this.a = prefix + "-a";
        this.b = prefix + "-b";
        this.dir = dir;
    }

    public static synchronized VrrpPair create() {
        Path dir;
        try {
            dir = Files.createTempDirectory("ftpgate-vrrp-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        VrrpPair p = new VrrpPair("fg-ha-" + ProcessHandle.current().pid() + "-" + (++counter), dir);
        try {
            p.build();
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    private void build() {
        for (String ns : List.of(sw, client, a, b)) {
            namespaces.add(ns);
            run("ip", "netns", "add", ns);
            exec(ns, "ip", "link", "set", "lo", "up");
        }
        exec(sw, "ip", "link", "add", "br0", "type", "bridge");
        exec(sw, "ip", "link", "set", "br0", "up");
        String[][] hosts = {{client, CLIENT}, {a, "198.51.100.2"}, {b, "198.51.100.3"}};
        for (int i = 0; i < hosts.length; i++) {
            String port = "p" + i;
            exec(sw, "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", hosts[i][0]);
            exec(sw, "ip", "link", "set", port, "master", "br0", "up");
            exec(hosts[i][0], "ip", "addr", "add", hosts[i][1] + "/24", "dev", "eth0");
            exec(hosts[i][0], "ip", "link", "set", "eth0", "up");
        }
    }

    /** Starts ftpgate (demo mode, listening on every address, port 21) in {@code ns}. */
    public Process startGateway(String ns, String jar) {
        Path config = write(ns + ".conf", "ftpgate { instance-name = gw-" + ns.substring(ns.length() - 1)
                + ", drain.lb-grace = 1s }\n");
        Process p = start(ns, "ftpgate-" + ns, Topology.JAVA, "-jar", jar, "--demo", "--listen", "0.0.0.0:21",
                "--config", config.toString());
        if (ns.equals(a)) {
            gatewayA = p;
        } else {
            gatewayB = p;
        }
        return p;
    }

    public Process gateway(String ns) {
        return ns.equals(a) ? gatewayA : gatewayB;
    }

    /**
     * Starts keepalived (VRRP only) in {@code ns}: MASTER-capable for {@code own} with priority
     * 150, backup for {@code other} with 100; both tracked by a vrrp_script that asks ftpgate's
     * /ready every second and fails after two misses.
     */
    public Process startKeepalived(String ns, String own, String other) {
        String conf = String.join("\n",
                "global_defs {",
                "  router_id " + ns.substring(ns.length() - 1),
                "  enable_script_security",
                "  script_user root",
                "}",
                "vrrp_script ftpgate_ready {",
                "  script \"/usr/bin/curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:9121/ready\"",
                "  interval 1",
                "  fall 2",
                "  rise 2",
                "}",
                instance("VIP1", 51, VIP1.equals(own) ? 150 : 100, VIP1),
                instance("VIP2", 52, VIP2.equals(own) ? 150 : 100, VIP2),
                "");
        Path file = write(ns + "-keepalived.conf", conf);
        return start(ns, "keepalived-" + ns, "keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail",
                "--use-file", file.toString(), "--pid", dir.resolve(ns + ".pid").toString(),
                "--vrrp_pid", dir.resolve(ns + ".vrrp.pid").toString());
    }

    private static String instance(String name, int id, int priority, String vip) {
        return String.join("\n",
                "vrrp_instance " + name + " {",
                "  state BACKUP",
                "  interface eth0",
                "  virtual_router_id " + id,
                "  priority " + priority,
                "  advert_int 1",
                "  virtual_ipaddress {",
                "    " + vip + "/24 dev eth0",
                "  }",
                "  track_script {",
                "    ftpgate_ready",
                "  }",
                "}");
    }

    /** Whether {@code ns} holds {@code vip} now. */
    public boolean holds(String ns, String vip) {
        return exec(ns, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout().contains(" " + vip + "/");
    }

    public String log(String name) {
        try {
            return Files.readString(dir.resolve(name + ".log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private Path write(String name, String text) {
        try {
            return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized Process start(String ns, String name, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code argv} in {@code ns}; fails on a non-zero exit. */
    public ExecResult exec(String ns, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        return run(command.toArray(String[]::new));
    }

    /** Runs {@code argv} in {@code ns}, whatever its exit. */
    public ExecResult tryExec(String ns, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        return runQuietly(command);
    }

    private static ExecResult run(String... argv) {
        return runQuietly(List.of(argv)).orThrow();
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

    /** SIGKILL for one process this pair started (a crash), waiting until it is gone. */
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
