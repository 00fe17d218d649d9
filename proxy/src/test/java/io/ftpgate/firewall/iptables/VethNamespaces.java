package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.RootTools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Two fresh network namespaces for the firewall backends' ITs, a gateway (where the rules go) and
 * a client, joined by a veth pair ({@code v0} in the gateway, {@code v1} in the client), each side
 * with the given addresses (IPv4 as /24, IPv6 as /64). Created inside the namespaces, so no
 * interface ever appears in the root namespace; {@link #close()} ends the probes and deletes both.
 * Public for the nftables backend's IT.
 */
public final class VethNamespaces implements AutoCloseable {

    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    public final String gateway;
    public final String client;
    private final CommandRunner runner = new CommandRunner();
    private final List<Process> processes = new ArrayList<>();

    private VethNamespaces(String name) {
        String suffix = ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        this.gateway = "ftpgate-" + name + "-gw-" + suffix;
        this.client = "ftpgate-" + name + "-cl-" + suffix;
    }

    /** Builds both namespaces; on failure what was built is removed. */
    public static VethNamespaces create(String name, List<String> gatewayAddresses, List<String> clientAddresses) throws IOException {
        VethNamespaces pair = new VethNamespaces(name);
        try {
            pair.run("ip", "netns", "add", pair.gateway);
            pair.run("ip", "netns", "add", pair.client);
            pair.run("ip", "-n", pair.gateway, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", pair.client);
            pair.configure(pair.gateway, "v0", gatewayAddresses);
            pair.configure(pair.client, "v1", clientAddresses);
            return pair;
        } catch (IOException | RuntimeException | Error e) {
            pair.close();
            throw e;
        }
    }

    private void configure(String ns, String device, List<String> addresses) throws IOException {
        run("ip", "-n", ns, "link", "set", "lo", "up");
        for (String address : addresses) {
            if (address.contains(":")) {
                run("ip", "-n", ns, "-6", "addr", "add", address + "/64", "dev", device, "nodad");
            } else {
                run("ip", "-n", ns, "addr", "add", address + "/24", "dev", device);
            }
        }
        run("ip", "-n", ns, "link", "set", device, "up");
    }

    /** The iptables binaries of a flavour: {@code [iptables, ip6tables]} or their {@code -legacy} twins. */
    static List<String> binaries(String flavour) {
        return List.of(flavour, flavour.replace("iptables", "ip6tables"));
    }

    /** Skips (or, in CI, fails) unless the flavour's binaries and its {@code -save} are there. */
    static void requireFlavour(String flavour) {
        List<String> tools = new ArrayList<>(binaries(flavour));
        tools.add(flavour + "-save");
        RootTools.requireRootAndTools(tools.toArray(String[]::new));
    }

    /** {@code ip netns exec NS BINARY ARGS}. */
    public static List<String> in(String ns, String binary, List<String> args) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, binary));
        argv.addAll(args);
        return argv;
    }

    /** Runs a command in the gateway namespace; it must succeed. */
    public CommandRunner.Result inGateway(String binary, List<String> args) throws IOException {
        return run(in(gateway, binary, args));
    }

    public CommandRunner.Result run(String... argv) throws IOException {
        return run(List.of(argv));
    }

    /** Runs the command; it must succeed. */
    public CommandRunner.Result run(List<String> argv) throws IOException {
        CommandRunner.Result result = runner.run(argv, TIMEOUT);
        assertThat(result.ok()).as("%s: %s", IptablesRules.commandLine(argv), result.failure()).isTrue();
        return result;
    }

    /** Accepts (and closes) connections to {@code port} in the gateway namespace until {@link #close()}. */
    public void listen(int port) throws Exception {
        listenIn(gateway, port);
    }

    /** Accepts (and closes) connections to {@code port} in namespace {@code ns} until {@link #close()}. */
    public void listenIn(String ns, int port) throws Exception {
        Process listener = new ProcessBuilder(java(ns, "listen", Integer.toString(port)))
                .redirectErrorStream(true).start();
        processes.add(listener);
        BufferedReader out = new BufferedReader(new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).as("listener in %s", ns).isEqualTo("listening");
    }

    /** Whether the client namespace completes a handshake with {@code host:port} within 1.5 s, from {@code from} if not null. */
    public boolean connect(String host, int port, String from) throws Exception {
        return connectFrom(client, host, port, from);
    }

    /** Whether namespace {@code ns} completes a handshake with {@code host:port} within 1.5 s, from {@code from} if not null. */
    public boolean connectFrom(String ns, String host, int port, String from) throws Exception {
        List<String> argv = new ArrayList<>(java(ns, "connect", host, Integer.toString(port), "1500"));
        if (from != null) {
            argv.add(from);
        }
        CommandRunner.Result result = runner.run(argv, TIMEOUT);
        assertThat(result.exitCode()).as(result.stdout() + result.stderr()).isIn(0, 1);
        return result.exitCode() == 0;
    }

    private static List<String> java(String ns, String... args) throws URISyntaxException {
        String classes = Path.of(TcpProbeMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classes, TcpProbeMain.class.getName()));
        argv.addAll(List.of(args));
        return argv;
    }

    @Override
    public void close() {
        for (Process process : processes) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : List.of(gateway, client)) {
            try {
                runner.run(List.of("ip", "netns", "del", ns), TIMEOUT);
            } catch (IOException ignored) {
                // nothing more to do: the namespace may not have been created
            }
        }
    }
}
