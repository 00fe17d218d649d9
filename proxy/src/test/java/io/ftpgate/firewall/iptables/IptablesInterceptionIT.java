package io.ftpgate.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.Interception;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Transparent interception with real iptables, TPROXY and policy routing in three fresh network
 * namespaces (client — gateway — server, see {@link Topology}). The gateway routes
 * (ip_forward 1) but drops what it does not know: INPUT and FORWARD policy DROP, only ESTABLISHED
 * (and ICMPv6) accepted; so every connection that works here works because of ftpgate's rules.
 * The transparent sockets are Netty epoll sockets with {@code IP_TRANSPARENT}
 * ({@link TransparentProbeMain}), the way the gateway itself opens them.
 */
@Tag("netns")
class IptablesInterceptionIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Interception SPEC = new Interception(0x1, 100, List.of(), List.of(), List.of(21), 2121);

    private Topology net;
    private IptablesFirewall firewall;

    @BeforeEach
    void createTopology() {
        RootTools.requireRootAndTools("ip", "iptables", "ip6tables", "iptables-save", "ip6tables-save");
        net = Topology.create(Topology.Kind.ROUTER);
        for (String tool : List.of("iptables", "ip6tables")) {
            for (String chain : List.of("INPUT", "FORWARD")) {
                gw(tool, "-A", chain, "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT");
                gw(tool, "-P", chain, "DROP");
            }
        }
        // Neighbour discovery with the gateway itself.
        gw("ip6tables", "-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT");
        firewall = new IptablesFirewall("FTPGATE", List.of("ip", "netns", "exec", net.gateway),
                "iptables", "ip6tables", TIMEOUT, false);
    }

    @AfterEach
    void deleteTopology() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void anInterceptedConnectionReachesTheTransparentListenerWithItsOriginalDestination() throws Exception {
        firewall.start();
        Probe listener = probe(net.gateway, "listen-transparent", "0.0.0.0", "2121");
        assertThat(connect(Topology.CLIENT_V4, Topology.SERVER_V4, 21)).as("before intercept").isFalse();

        firewall.intercept(SPEC);
        firewall.intercept(SPEC); // idempotent
        assertThat(connect(Topology.CLIENT_V4, Topology.SERVER_V4, 21)).as("after intercept").isTrue();
        assertThat(listener.next()).startsWith("accepted local=203.0.113.2:21 remote=198.51.100.2:");
        assertThat(connect(Topology.CLIENT_V4, Topology.SERVER_V4, 22)).as("a port not intercepted").isFalse();
        assertThat(list("iptables", "-t", "mangle", "-S")).filteredOn("-A PREROUTING -j FTPGATE-TPROXY"::equals).hasSize(1);
    }

    @Test
    void anInterceptedIpv6ConnectionReachesTheTransparentListener() throws Exception {
        firewall.start();
        Probe listener = probe(net.gateway, "listen-transparent", "::", "2121");
        firewall.intercept(SPEC);
        assertThat(connect(Topology.CLIENT_V6, Topology.SERVER_V6, 21)).isTrue();
        assertThat(listener.next()).startsWith("accepted local=2001:db8:2:0:0:0:0:2:21 remote=2001:db8:1:0:0:0:0:2:");
    }

    @ParameterizedTest(name = "{0}, INPUT policy {1}")
    @CsvSource({"IPv4, DROP", "IPv6, DROP", "IPv4, ACCEPT"})
    void aDivertLeaseDeliversExactlyItsConnectionUntilRevoked(String family, String inputPolicy) throws Exception {
        boolean v6 = family.equals("IPv6");
        String client = v6 ? Topology.CLIENT_V6 : Topology.CLIENT_V4;
        String third = v6 ? Topology.THIRD_V6 : Topology.THIRD_V4;
        String server = v6 ? Topology.SERVER_V6 : Topology.SERVER_V4;
        // With ACCEPT the mangle rules alone must be exact: the socket-mark rule must not hand a
        // new connection to the listener bound to the server's address.
        gw(v6 ? "ip6tables" : "iptables", "-P", "INPUT", inputPolicy);
        firewall.start();
        firewall.intercept(SPEC);
        Probe listener = probe(net.gateway, "listen-transparent", server, "40001");
        DataLease lease = new DataLease(17, Direction.INBOUND, ip(client), ip(server), 40001, true);

        assertThat(connect(client, server, 40001)).as("before apply").isFalse();
        firewall.apply(lease);
        assertThat(connect(client, server, 40001)).as("after apply").isTrue();
        assertThat(listener.next()).startsWith("accepted local=" + ip(server).getHostAddress() + ":40001 remote="
                + ip(client).getHostAddress() + ":");
        assertThat(connect(third, server, 40001)).as("from another client address").isFalse();
        firewall.revoke(lease);
        assertThat(connect(client, server, 40001)).as("after revoke").isFalse();
        assertThat(listener.lines).as("nothing else was accepted").isEmpty();
    }

    @Test
    void theGatewayConnectsToTheClientFromTheServersAddress() throws Exception {
        firewall.start();
        firewall.intercept(SPEC);
        Probe client = probe(net.client, "listen", Topology.CLIENT_V4, "5000");
        ExecResult connected = net.exec(net.gateway, TIMEOUT, java("connect-transparent", Topology.SERVER_V4,
                Topology.CLIENT_V4, "5000", "3000"));
        assertThat(connected.exitCode()).as(connected.describe()).isZero();
        assertThat(client.next()).startsWith("accepted local=198.51.100.2:5000 remote=203.0.113.2:");
    }

    @Test
    void stopLeavesNothingOfFtpgatesInTheGateway() throws Exception {
        firewall.start();
        firewall.intercept(SPEC);
        firewall.apply(new DataLease(17, Direction.INBOUND, ip(Topology.CLIENT_V4), ip(Topology.SERVER_V4), 40001, true));
        firewall.apply(new DataLease(17, Direction.INBOUND, ip(Topology.CLIENT_V6), ip(Topology.SERVER_V6), 40001, true));
        assertThat(String.join("\n", list("iptables-save", "-t", "mangle"))).contains("FTPGATE-DIVERT -s 198.51.100.2/32");
        assertThat(String.join("\n", list("ip", "rule", "show"))).contains("fwmark 0x1/0x1 lookup 100");

        firewall.stop();
        firewall.stop();

        assertNothingOfOurs();
    }

    @Test
    void stopInAFreshProcessFindsWhatACrashedRunLeft() throws Exception {
        firewall.start();
        firewall.intercept(SPEC);
        firewall.apply(new DataLease(17, Direction.INBOUND, ip(Topology.CLIENT_V4), ip(Topology.SERVER_V4), 40001, true));

        IptablesFirewall fresh = new IptablesFirewall("FTPGATE", List.of("ip", "netns", "exec", net.gateway),
                "iptables", "ip6tables", TIMEOUT, false);
        fresh.stop();

        assertNothingOfOurs();
    }

    private void assertNothingOfOurs() {
        for (String save : List.of("iptables-save", "ip6tables-save")) {
            assertThat(String.join("\n", list(save))).doesNotContainIgnoringCase("ftpgate");
        }
        for (String family : List.of("-4", "-6")) {
            assertThat(String.join("\n", list("ip", family, "rule", "show"))).doesNotContain("lookup 100");
            ExecResult routes = net.exec(net.gateway, "ip", family, "route", "show", "table", "100");
            // an emptied table may be gone altogether: "FIB table does not exist"
            assertThat(routes.ok() ? routes.stdout().strip() : routes.stderr()).as(routes.describe())
                    .satisfiesAnyOf(text -> assertThat(text).isEmpty(), text -> assertThat(text).contains("does not exist"));
        }
    }

    // --- helpers ---

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }

    private void gw(String... argv) {
        net.exec(net.gateway, argv).orThrow();
    }

    private List<String> list(String... argv) {
        ExecResult result = net.exec(net.gateway, argv);
        return result.orThrow().stdout().lines().filter(line -> !line.isBlank()).toList();
    }

    /** Whether a client connection from {@code from} completes its handshake within 1.5 s. */
    private boolean connect(String from, String host, int port) {
        ExecResult result = net.exec(net.client, TIMEOUT, java("connect", from, host, Integer.toString(port), "1500"));
        assertThat(result.exitCode()).as(result.describe()).isIn(0, 1);
        return result.exitCode() == 0;
    }

    private Probe probe(String ns, String... args) throws Exception {
        Process process = net.startInteractive(ns, net.workDir().resolve("probe.log"), java(args));
        Probe probe = new Probe(process);
        assertThat(probe.next()).as("probe %s in %s", List.of(args), ns).isEqualTo("listening");
        return probe;
    }

    private static String[] java(String... args) {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> argv = new ArrayList<>(List.of(Topology.JAVA, "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", classpath, TransparentProbeMain.class.getName()));
        argv.addAll(List.of(args));
        return argv.toArray(String[]::new);
    }

    /** A running probe's output lines, read as they come. */
    private static final class Probe {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Probe(Process process) {
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process was stopped
                }
            }, "probe-reader");
            reader.setDaemon(true);
            reader.start();
        }

        String next() throws InterruptedException {
            String line = lines.poll(15, TimeUnit.SECONDS);
            return line == null ? "(no line within 15 s)" : line;
        }
    }
}
