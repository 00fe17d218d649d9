package io.ftpgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three network namespaces, client — gateway — server, joined by two veth pairs:
 *
 * <pre>
 *  client 198.51.100.2 (+ .3)       gateway 198.51.100.1 | 203.0.113.1        server 203.0.113.2
 *         2001:db8:1::2 (+ ::3) ─────       2001:db8:1::1 | 2001:db8:2::1 ─────     2001:db8:2::2
 * </pre>
 *
 * In {@link Kind#GATEWAY} the gateway does not route (ip_forward 0, FORWARD DROP) and its INPUT
 * chain admits only loopback, ESTABLISHED (not RELATED) packets, new connections to the listener
 * ports 21 and 2121 and, for IPv6, ICMPv6; every data connection must therefore be opened by a
 * rule ftpgate adds. {@link Kind#ROUTER} is the control experiment: the gateway forwards
 * everything, so clients can talk to the server directly and the harness can be checked without
 * ftpgate. {@link Kind#ROUTING_GATEWAY} is the place of a transparent gateway: it routes (ip_forward
 * 1, IPv4 and IPv6) but its FORWARD chain drops everything except ESTABLISHED packets, so no new
 * connection crosses it unless ftpgate intercepts it and carries it itself; its INPUT chain is that
 * of {@link Kind#GATEWAY} without the listener ports: a diverted connection keeps its original
 * destination (the server's address and port), and admitting exactly those is the business of the
 * rules ftpgate installs with its interception, not of the admin. {@link Kind#FORWARDING_GATEWAY}
 * is the place of ftpgate's kernel path: it routes, its INPUT chain is that of
 * {@link Kind#GATEWAY}, and its FORWARD chain drops everything, ESTABLISHED packets included, so
 * whatever crosses it was let through by ftpgate's own rules. {@link Kind#NFTABLES_GATEWAY} is
 * {@link Kind#GATEWAY} with a native nftables firewall instead of iptables rules (none at all):
 * {@link #NFT_RULESET}, table {@code inet filter}, whose input and forward policies drop.
 * {@link Kind#NFTABLES_ROUTING_GATEWAY} is {@link Kind#ROUTING_GATEWAY} in native nftables
 * ({@link #NFT_ROUTING_RULESET}, no iptables rule at all). {@link Kind#NFTABLES_FORWARDING_GATEWAY}
 * is {@link Kind#FORWARDING_GATEWAY} in native nftables: it routes, with {@link #NFT_RULESET}
 * (whose forward chain drops everything).
 *
 * <p>{@link #addSecondServer()} adds a fourth namespace, a second FTP server host at
 * {@link #SECOND_SERVER_V4} / {@link #SECOND_SERVER_V6}, on its own link from the gateway (host
 * routes on both ends, so the server network's addressing stays as it is).
 *
 * <p>{@link #close()} kills every process started through {@link #start} (and what they forked),
 * deletes the namespaces and is safe to call twice; a shutdown hook does the same if the JVM is
 * interrupted. Nothing is changed outside the three namespaces.
 */
public final class Topology implements AutoCloseable, NamespaceHosts {

    public enum Kind { GATEWAY, ROUTER, ROUTING_GATEWAY, FORWARDING_GATEWAY, NFTABLES_GATEWAY, NFTABLES_ROUTING_GATEWAY,
        NFTABLES_FORWARDING_GATEWAY,
        /** Routes nothing and has no firewall of the topology's: the test runs one (firewalld). */
        BARE_GATEWAY }

    /**
     * The gateway's own firewall in {@link Kind#NFTABLES_GATEWAY}, as an admin would write it in
     * {@code /etc/nftables.conf}: what {@link Kind#GATEWAY}'s iptables rules admit, and nothing more.
     */
    public static final String NFT_RULESET = """
            table inet filter {
            	chain input {
            		type filter hook input priority filter; policy drop;
            		iif "lo" accept
            		ct state established accept
            		tcp dport { 21, 2121 } ct state new accept
            		meta l4proto ipv6-icmp accept
            	}

            	chain forward {
            		type filter hook forward priority filter; policy drop;
            	}

            	chain output {
            		type filter hook output priority filter; policy accept;
            	}
            }
            """;

    /**
     * The gateway's own firewall in {@link Kind#NFTABLES_ROUTING_GATEWAY}: what {@link Kind#ROUTING_GATEWAY}'s
     * iptables rules admit (no listener port; forwarded: ESTABLISHED only), and nothing more.
     */
    public static final String NFT_ROUTING_RULESET = """
            table inet filter {
            	chain input {
            		type filter hook input priority filter; policy drop;
            		iif "lo" accept
            		ct state established accept
            		meta l4proto ipv6-icmp accept
            	}

            	chain forward {
            		type filter hook forward priority filter; policy drop;
            		ct state established accept
            	}

            	chain output {
            		type filter hook output priority filter; policy accept;
            	}
            }
            """;

    public static final String CLIENT_V4 = "198.51.100.2";
    public static final String CLIENT_V6 = "2001:db8:1::2";
    /** A second client address: a host that negotiated nothing, used to prove leases are exact. */
    public static final String THIRD_V4 = "198.51.100.3";
    public static final String THIRD_V6 = "2001:db8:1::3";
    public static final String GATEWAY_CLIENT_SIDE_V4 = "198.51.100.1";
    public static final String GATEWAY_CLIENT_SIDE_V6 = "2001:db8:1::1";
    public static final String GATEWAY_SERVER_SIDE_V4 = "203.0.113.1";
    public static final String GATEWAY_SERVER_SIDE_V6 = "2001:db8:2::1";
    public static final String SERVER_V4 = "203.0.113.2";
    public static final String SERVER_V6 = "2001:db8:2::2";
    /** The host of {@link #addSecondServer()}. */
    public static final String SECOND_SERVER_V4 = "203.0.113.3";
    public static final String SECOND_SERVER_V6 = "2001:db8:2::3";
    /** Link-local address of the gateway on the second server's link: that server's IPv6 default route. */
    private static final String GATEWAY_SECOND_LINK_V6 = "fe80::1";
    /** Control ports the gateway firewall admits. */
    public static final List<Integer> LISTENER_PORTS = List.of(21, 2121);

    /** The running JVM's launcher, for daemons and probes started in a namespace. */
    public static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Names this class gives: fg-cli-PID-N, fg-gw-PID-N, fg-srv-PID-N. */
    private static final Pattern ORPHAN_CANDIDATE =
            Pattern.compile("(fg-(?:cli|gw|srv|srv2)-(\\d+)-\\d+)(?:\\s|$)");

    public final String client;
    public final String gateway;
    public final String server;
    private final Path workDir;
    private final String secondServer;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::cleanUp, "topology-cleanup");
    private boolean closed;

    private Topology(String suffix) throws IOException {
        this.client = "fg-cli-" + suffix;
        this.gateway = "fg-gw-" + suffix;
        this.server = "fg-srv-" + suffix;
        this.secondServer = "fg-srv2-" + suffix;
        this.workDir = Files.createTempDirectory("ftpgate-netns-");
    }

    /** Builds the namespaces; on any failure what was built is removed before the error is thrown. */
    public static Topology create(Kind kind) {
        removeOrphans();
        Topology topology;
        try {
            topology = new Topology(ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(topology.shutdownHook);
        try {
            topology.build(kind);
            return topology;
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    /** Scratch directory (config files, logs) removed by {@link #close()}. */
    @Override
    public Path workDir() {
        return workDir;
    }

    /**
     * Deletes namespaces this class created in a JVM that no longer runs (killed with SIGKILL, so
     * its shutdown hook never ran). The creator's pid is part of the name; live ones are left alone.
     */
    private static synchronized void removeOrphans() {
        ExecResult list = host("ip", "netns", "list");
        list.stdout().lines()
                .map(line -> ORPHAN_CANDIDATE.matcher(line))
                .filter(Matcher::lookingAt)
                .filter(m -> ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty())
                .forEach(m -> deleteNamespace(m.group(1)));
    }

    private void build(Kind kind) {
        for (String ns : List.of(client, gateway, server)) {
            addNamespace(ns);
        }
        // Created inside the gateway namespace with the peer moved straight into its neighbour,
        // so no interface ever appears in the root namespace.
        exec(gateway, "ip", "link", "add", "to-cli", "type", "veth", "peer", "name", "eth0", "netns", client).orThrow();
        exec(gateway, "ip", "link", "add", "to-srv", "type", "veth", "peer", "name", "eth0", "netns", server).orThrow();

        address(gateway, "to-cli", GATEWAY_CLIENT_SIDE_V4 + "/24", GATEWAY_CLIENT_SIDE_V6 + "/64");
        address(gateway, "to-srv", GATEWAY_SERVER_SIDE_V4 + "/24", GATEWAY_SERVER_SIDE_V6 + "/64");
        address(client, "eth0", CLIENT_V4 + "/24", CLIENT_V6 + "/64");
        // The third address must never be picked as a source by itself: IPv4 makes it secondary,
        // IPv6 would prefer the newest address unless it is deprecated (preferred_lft 0).
        exec(client, "ip", "-4", "addr", "add", THIRD_V4 + "/24", "dev", "eth0").orThrow();
        exec(client, "ip", "-6", "addr", "add", THIRD_V6 + "/64", "dev", "eth0", "nodad", "preferred_lft", "0").orThrow();
        address(server, "eth0", SERVER_V4 + "/24", SERVER_V6 + "/64");
        for (String[] link : new String[][] {{gateway, "to-cli"}, {gateway, "to-srv"}, {client, "eth0"}, {server, "eth0"}}) {
            exec(link[0], "ip", "link", "set", link[1], "up").orThrow();
        }
        for (String[] route : new String[][] {
                {client, GATEWAY_CLIENT_SIDE_V4, GATEWAY_CLIENT_SIDE_V6},
                {server, GATEWAY_SERVER_SIDE_V4, GATEWAY_SERVER_SIDE_V6}}) {
            exec(route[0], "ip", "-4", "route", "add", "default", "via", route[1]).orThrow();
            exec(route[0], "ip", "-6", "route", "add", "default", "via", route[2]).orThrow();
        }
        boolean routes = kind != Kind.GATEWAY && kind != Kind.NFTABLES_GATEWAY && kind != Kind.BARE_GATEWAY;
        exec(gateway, "sysctl", "-q", "-w", "net.ipv4.ip_forward=" + (routes ? 1 : 0)).orThrow();
        exec(gateway, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=" + (routes ? 1 : 0)).orThrow();
        if (kind == Kind.NFTABLES_GATEWAY || kind == Kind.NFTABLES_FORWARDING_GATEWAY) {
            nft(NFT_RULESET);
        } else if (kind == Kind.NFTABLES_ROUTING_GATEWAY) {
            nft(NFT_ROUTING_RULESET);
        } else if (kind != Kind.ROUTER && kind != Kind.BARE_GATEWAY) {
            gatewayFirewall(kind, "iptables", "icmp");
            gatewayFirewall(kind, "ip6tables", "ipv6-icmp");
        }
    }

    private synchronized void addNamespace(String ns) {
        if (closed) {
            throw new IllegalStateException("topology is closed");
        }
        // A namespace of the same name can only be a leftover of a killed run with our pid.
        deleteNamespace(ns);
        namespaces.add(ns);
        host("ip", "netns", "add", ns).orThrow();
        exec(ns, "ip", "link", "set", "lo", "up").orThrow();
    }

    /**
     * Adds a second FTP server host, {@link #SECOND_SERVER_V4} and {@link #SECOND_SERVER_V6}, in a
     * namespace of its own behind the gateway, and returns that namespace's name. Its link has no
     * subnet: host routes on both ends, the gateway's server-side addresses as its sources, so
     * the second server sees the gateway exactly as the first one does.
     */
    public String addSecondServer() {
        addNamespace(secondServer);
        exec(gateway, "ip", "link", "add", "to-srv2", "type", "veth", "peer", "name", "eth0", "netns", secondServer).orThrow();
        exec(gateway, "ip", "link", "set", "to-srv2", "up").orThrow();
        exec(secondServer, "ip", "link", "set", "eth0", "up").orThrow();
        exec(gateway, "ip", "-6", "addr", "add", GATEWAY_SECOND_LINK_V6 + "/64", "dev", "to-srv2", "nodad").orThrow();
        exec(gateway, "ip", "-4", "route", "add", SECOND_SERVER_V4 + "/32", "dev", "to-srv2", "src", GATEWAY_SERVER_SIDE_V4).orThrow();
        exec(gateway, "ip", "-6", "route", "add", SECOND_SERVER_V6 + "/128", "dev", "to-srv2", "src", GATEWAY_SERVER_SIDE_V6).orThrow();
        exec(secondServer, "ip", "-4", "addr", "add", SECOND_SERVER_V4 + "/32", "dev", "eth0").orThrow();
        exec(secondServer, "ip", "-6", "addr", "add", SECOND_SERVER_V6 + "/128", "dev", "eth0", "nodad").orThrow();
        exec(secondServer, "ip", "-4", "route", "add", GATEWAY_SERVER_SIDE_V4 + "/32", "dev", "eth0").orThrow();
        exec(secondServer, "ip", "-4", "route", "add", "default", "via", GATEWAY_SERVER_SIDE_V4, "dev", "eth0").orThrow();
        exec(secondServer, "ip", "-6", "route", "add", "default", "via", GATEWAY_SECOND_LINK_V6, "dev", "eth0").orThrow();
        return secondServer;
    }

    private void address(String ns, String dev, String v4, String v6) {
        exec(ns, "ip", "-4", "addr", "add", v4, "dev", dev).orThrow();
        // nodad: the address is usable at once instead of after duplicate address detection.
        exec(ns, "ip", "-6", "addr", "add", v6, "dev", dev, "nodad").orThrow();
    }

    private void gatewayFirewall(Kind kind, String tool, String icmp) {
        exec(gateway, tool, "-P", "INPUT", "DROP").orThrow();
        exec(gateway, tool, "-P", "FORWARD", "DROP").orThrow();
        exec(gateway, tool, "-P", "OUTPUT", "ACCEPT").orThrow();
        if (kind == Kind.ROUTING_GATEWAY) {
            // Forwarded: replies of connections that were admitted, nothing new. ftpgate opens
            // nothing here either; what it intercepts arrives through INPUT.
            exec(gateway, tool, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT").orThrow();
        }
        exec(gateway, tool, "-A", "INPUT", "-i", "lo", "-j", "ACCEPT").orThrow();
        // ESTABLISHED only: RELATED would let a conntrack helper open data connections for us.
        exec(gateway, tool, "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT").orThrow();
        for (int port : kind == Kind.ROUTING_GATEWAY ? List.<Integer>of() : LISTENER_PORTS) {
            exec(gateway, tool, "-A", "INPUT", "-p", "tcp", "--dport", String.valueOf(port),
                    "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT").orThrow();
        }
        if (icmp.equals("ipv6-icmp")) {
            // Neighbour discovery; without it IPv6 never resolves the peer's link address.
            exec(gateway, tool, "-A", "INPUT", "-p", icmp, "-j", "ACCEPT").orThrow();
        }
    }

    /** Loads an nftables script ({@code nft -f -}) in the gateway namespace. */
    public void nft(String script) {
        exec(gateway, "sh", "-c", "printf '%s' \"$0\" | nft -f -", script).orThrow();
    }

    /** Runs {@code argv} in namespace {@code ns} and waits up to 30 s. */
    public ExecResult exec(String ns, String... argv) {
        return exec(ns, DEFAULT_TIMEOUT, argv);
    }

    @Override
    public ExecResult tryExec(String ns, String... argv) {
        return exec(ns, argv);
    }

    public ExecResult exec(String ns, Duration timeout, String... argv) {
        return run(inNamespace(ns, argv), timeout);
    }

    /**
     * Starts a long-running process in {@code ns}, stdout and stderr appended to {@code log}.
     * {@link #close()} stops it if the test has not.
     */
    @Override
    public Process start(String ns, Path log, String... argv) {
        ProcessBuilder builder = new ProcessBuilder(inNamespace(ns, argv))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return track(builder);
    }

    /** Starts a process in {@code ns} whose stdin and stdout the test drives; stderr goes to {@code log}. */
    public Process startInteractive(String ns, Path log, String... argv) {
        ProcessBuilder builder = new ProcessBuilder(inNamespace(ns, argv))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return track(builder);
    }

    private synchronized Process track(ProcessBuilder builder) {
        if (closed) {
            throw new IllegalStateException("topology is closed");
        }
        try {
            Process process = builder.start();
            started.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + builder.command(), e);
        }
    }

    private static List<String> inNamespace(String ns, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(Arrays.asList(argv));
        return command;
    }

    private static ExecResult host(String... argv) {
        return run(List.of(argv), DEFAULT_TIMEOUT);
    }

    private static ExecResult run(List<String> argv, Duration timeout) {
        try {
            Process process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            CompletableFuture<String> out = readAsync(process.getInputStream());
            CompletableFuture<String> err = readAsync(process.getErrorStream());
            int exit;
            if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                exit = process.exitValue();
            } else {
                kill(process);
                exit = ExecResult.TIMED_OUT;
            }
            return new ExecResult(argv, exit, out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot collect output of " + argv, e);
        }
    }

    private static CompletableFuture<String> readAsync(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output unreadable: " + e + ")";
            }
        });
    }

    /** SIGTERM, then SIGKILL after 5 s; children first collected so a forking daemon leaves nothing. */
    static void kill(Process process) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        cleanUp();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run: nothing left to do
        }
    }

    private void cleanUp() {
        List<Process> toStop;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toStop = new ArrayList<>(started);
        }
        toStop.forEach(Topology::kill);
        List<String> toDelete;
        synchronized (this) {
            toDelete = new ArrayList<>(namespaces);
        }
        for (String ns : toDelete) {
            deleteNamespace(ns);
        }
        deleteRecursively(workDir);
    }

    private static void deleteNamespace(String ns) {
        // Anything still inside was started by this harness (e.g. a vsftpd session child): stop it by pid.
        ExecResult pids = host("ip", "netns", "pids", ns);
        if (pids.ok()) {
            pids.stdout().lines().map(String::strip).filter(s -> !s.isEmpty())
                    .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
        }
        host("ip", "netns", "delete", ns);
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover temp dir is harmless; a leftover namespace is not, and was handled above
        }
    }
}
