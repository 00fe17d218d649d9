package io.ftpgate.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transparent mode on a routing gateway that forwards nothing new ({@link Topology.Kind#ROUTING_GATEWAY}):
 * curl and lftp in the client namespace connect to the <em>server's</em> address, 203.0.113.2:21 and
 * [2001:db8:2::2]:21; ftpgate's TPROXY interception delivers the connection to its transparent
 * listener, which carries it to that server. Data connections stay transparent: the client sees
 * the server's address in 227 and connects to it, and a per-connection diversion (a mangle and a
 * filter rule, "diverted lease") brings exactly that connection to the gateway. Each nested class
 * runs ftpgate with one setting and ends with SIGTERM, after which nothing of ftpgate's may be
 * left: no chain or rule in any table, no {@code ip rule} for its mark, no route in its table.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransparentModeIT {

    enum Op { LIST, RETR, STOR }

    private static final int ROUTING_TABLE = 100;
    private static final FtpEndpoint SERVER_V4 = new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT);
    private static final FtpEndpoint SERVER_V6 = new FtpEndpoint(Topology.SERVER_V6, VsftpdServer.PORT);
    /** Server addresses outside the allow list (added to the server namespace; vsftpd answers there too). */
    private static final String DENIED_V4 = "203.0.113.9";
    private static final String DENIED_V6 = "2001:db8:2::9";

    private Topology topology;
    private VsftpdServer server;
    private TransferChecks checks;
    private GatewayRules rules;
    private FtpGateDaemon daemon;

    /**
     * ftpgate's settings: one dual-stack transparent listener, only the server itself allowed. One
     * {@code [::]:2121} socket takes both families; {@code ["0.0.0.0:2121", "[::]:2121"]} does not
     * start ("cannot listen on [::]:2121: ... Address already in use"): Netty's epoll sockets are
     * IPv6 sockets without IPV6_V6ONLY, so the second bind collides with the first.
     */
    static String settings(String... extra) {
        List<String> lines = new ArrayList<>(List.of(
                "ftpgate {",
                "  listeners.tp {",
                "    mode = transparent",
                "    listen = [\"[::]:2121\"]",
                "  }",
                "  destinations.allow = [\"" + Topology.SERVER_V4 + "/32\", \"" + Topology.SERVER_V6 + "/128\"]",
                "  firewall.backend = iptables",
                "  data.connect-timeout = 3s",
                "  shutdown.grace-period = 2s"));
        for (String line : extra) {
            lines.add("  " + line);
        }
        lines.add("}");
        lines.add("");
        return String.join("\n", lines);
    }

    @BeforeAll
    void setUp() {
        Testbed.requireTools("curl", "lftp");
        topology = Topology.create(Topology.Kind.ROUTING_GATEWAY);
        try {
            server = VsftpdServer.start(topology);
            topology.exec(topology.server, "ip", "-4", "addr", "add", DENIED_V4 + "/24", "dev", "eth0").orThrow();
            topology.exec(topology.server, "ip", "-6", "addr", "add", DENIED_V6 + "/64", "dev", "eth0", "nodad").orThrow();
            checks = new TransferChecks(topology, server);
            rules = new GatewayRules(topology);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @AfterAll
    void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    void startDaemon(String settings) {
        daemon = FtpGateDaemon.start(topology, settings);
    }

    /** SIGTERM, then nothing of ftpgate's may be left in the gateway namespace. */
    void stopDaemonAndCheckLeftovers() {
        if (daemon == null || !daemon.isAlive()) {
            return;
        }
        int exit = daemon.stop();
        assertThat(exit).as("exit code after SIGTERM, log:\n%s", daemon.log()).isIn(0, 143);
        assertThat(rules.leftovers(ROUTING_TABLE)).as("ftpgate's firewall objects, rules and routes after SIGTERM; log:\n%s",
                daemon.log()).isEmpty();
    }

    static Stream<Arguments> cases(List<FtpEndpoint> endpoints) {
        List<Arguments> cases = new ArrayList<>();
        for (FtpEndpoint endpoint : endpoints) {
            for (FtpClientTool tool : List.of(new Curl(), new Lftp())) {
                for (FtpMode mode : FtpMode.values()) {
                    if (tool.supports(mode, endpoint.ipv6())) {
                        for (Op op : Op.values()) {
                            cases.add(Arguments.of(endpoint, tool, mode, op));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    void transfer(String prefix, FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op) {
        String tag = prefix + "-" + tool.name() + "-" + endpoint.host().replace(':', '_') + "-" + mode;
        switch (op) {
            case LIST -> checks.list(tool, endpoint, mode);
            case RETR -> checks.retrieve(tool, endpoint, mode, tag);
            case STOR -> checks.store(tool, endpoint, mode, tag);
        }
        rules.awaitNoLeasesAnywhere();
    }

    /** A transfer whose control connection vsftpd logs as coming from {@code client}. */
    void transferSeenFrom(String prefix, FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op, String client) {
        int before = server.clientAddresses().size();
        transfer(prefix, endpoint, tool, mode, op);
        List<String> seen = server.clientAddresses();
        assertThat(seen.subList(before, seen.size())).as("control connections vsftpd logged").containsExactly(client);
    }

    /**
     * The printed {@code tool} commands of one table (mangle or filter) as {@code iptables -S} lists
     * what they create: {@code -N} and {@code -A} as they are, {@code -I CHAIN N} as {@code -A CHAIN}.
     */
    static List<String> asListed(List<String> printed, String tool, boolean mangle) {
        String prefix = tool + " -w 5 ";
        return printed.stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length()))
                .filter(l -> l.startsWith("-t mangle ") == mangle)
                .map(l -> mangle ? l.substring("-t mangle ".length()) : l)
                .map(l -> l.replaceFirst("^-I (\\S+) \\d+ ", "-A $1 "))
                .sorted().toList();
    }

    /** The control dialogue curl printed (-v), reply lines only. */
    static List<String> replies(ExecResult result) {
        return result.stderr().lines().filter(l -> l.startsWith("< ")).map(l -> l.substring(2)).toList();
    }

    /** The control experiment: without ftpgate the routing gateway lets no new connection through. */
    @Test
    @Order(0)
    void withoutFtpgateNothingCrossesTheGateway() {
        for (FtpEndpoint endpoint : List.of(SERVER_V4, SERVER_V6)) {
            ExecResult direct = topology.exec(topology.client, "curl", "-sS", "--connect-timeout", "2",
                    "ftp://" + endpoint.authority() + "/");
            assertThat(direct.ok()).as("curl straight to the server without ftpgate:\n%s", direct.describe()).isFalse();
            assertThat(direct.exitCode()).as("curl's exit code: 28, the connection timed out (dropped)\n%s", direct.describe())
                    .isEqualTo(28);
        }
    }

    @Test
    @Order(1)
    void printFirewallShowsTheInterception() {
        Path config = FtpGateDaemon.writeConfig(topology, settings());
        ExecResult printed = FtpGateDaemon.run(topology, "--config", config.toString(), "--print-firewall");
        assertThat(printed.ok()).as(printed.describe()).isTrue();
        assertThat(printed.stdout()).as("--print-firewall:\n%s", printed.describe())
                .contains("mangle", "PREROUTING", "TPROXY", "--on-port 2121", "--dport 21")
                .containsPattern("ip (-4 )?rule add fwmark \\S+ (lookup|table) " + ROUTING_TABLE)
                .containsPattern("ip -6 rule add fwmark \\S+ (lookup|table) " + ROUTING_TABLE)
                .containsPattern("ip (-4 )?route (add|replace) local (0\\.0\\.0\\.0/0|default) dev lo table " + ROUTING_TABLE)
                .containsPattern("ip -6 route (add|replace) local (::/0|default) dev lo table " + ROUTING_TABLE);
        assertThat(rules.leftovers(ROUTING_TABLE)).as("--print-firewall changes nothing").isEmpty();
    }

    /** One ftpgate run with one setting for a nested class: started before it, stopped and checked after it. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(120)
    abstract class DaemonRun {
        private final String settings;

        DaemonRun(String settings) {
            this.settings = settings;
        }

        @BeforeAll
        void start() {
            startDaemon(settings);
        }

        @AfterAll
        void stop() {
            stopDaemonAndCheckLeftovers();
        }

        @AfterEach
        void gatewayStillRunning() {
            daemon.assertAlive();
        }
    }

    /** announce = server (the default): the client sees only the server. */
    @Nested
    @Order(1)
    class AnnounceServer extends DaemonRun {

        AnnounceServer() {
            super(settings());
        }

        static Stream<Arguments> cases() {
            return TransparentModeIT.cases(List.of(SERVER_V4, SERVER_V6));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void transferToTheServersAddress(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op) {
            transfer("tp", endpoint, tool, mode, op);
        }

        /**
         * --print-firewall (same config) lists exactly the interception the running daemon installed:
         * the same mangle chains and rules, the same accept rules in FTPGATE-IN, the routing rule and route.
         */
        @Test
        void printFirewallIsWhatTheDaemonInstalled() {
            List<String> printed = FtpGateDaemon.run(topology, "--config", daemon.configFile().toString(), "--print-firewall")
                    .orThrow().stdout().lines().toList();
            for (String tool : List.of("iptables", "ip6tables")) {
                List<String> mangle = topology.exec(topology.gateway, tool, "-w", "-t", "mangle", "-S").orThrow().stdout().lines()
                        .filter(l -> l.contains("FTPGATE")).sorted().toList();
                List<String> accepts = topology.exec(topology.gateway, tool, "-w", "-S", GatewayRules.CHAIN).orThrow().stdout()
                        .lines().filter(l -> l.contains("ftpgate intercept")).sorted().toList();
                assertThat(mangle).as("%s -t mangle -S vs --print-firewall:\n%s", tool, String.join("\n", printed))
                        .isNotEmpty().isEqualTo(asListed(printed, tool, true));
                assertThat(accepts).as("%s -S %s vs --print-firewall:\n%s", tool, GatewayRules.CHAIN, String.join("\n", printed))
                        .isNotEmpty().isEqualTo(asListed(printed, tool, false));
            }
            for (String family : List.of("-4", "-6")) {
                String rule = printed.stream().filter(l -> l.startsWith("ip " + family + " rule add ")).findFirst().orElseThrow();
                String selector = rule.substring(("ip " + family + " rule add ").length());
                assertThat(topology.exec(topology.gateway, "ip", family, "rule", "show").orThrow().stdout())
                        .as("ip %s rule show, printed: %s", family, rule).contains(selector);
                assertThat(printed).anyMatch(l -> l.startsWith("ip " + family + " route ") && l.contains(" table " + ROUTING_TABLE));
                assertThat(topology.exec(topology.gateway, "ip", family, "route", "show", "table", String.valueOf(ROUTING_TABLE))
                        .orThrow().stdout()).as("ip %s route show table %d", family, ROUTING_TABLE).contains("local default dev lo");
            }
        }

        @Test
        void passiveRepliesNameTheServer() {
            ExecResult pasv = new Curl().list(topology, SERVER_V4, FtpMode.PASV);
            assertThat(pasv.ok()).as(pasv.describe()).isTrue();
            assertThat(replies(pasv)).as("curl -v:\n%s", pasv.describe())
                    .anyMatch(l -> l.startsWith("227 ") && l.contains("(203,0,113,2,"));
            assertThat(pasv.stderr()).as("curl -v:\n%s", pasv.describe()).doesNotContain("198,51,100,1", "203,0,113,1,");
        }

        @Test
        void theServerSeesTheGatewayWithoutPreserveClientAddress() {
            int before = server.clientAddresses().size();
            ExecResult list = new Curl().list(topology, SERVER_V4, FtpMode.EPSV);
            assertThat(list.ok()).as(list.describe()).isTrue();
            assertThat(server.clientAddresses().subList(before, server.clientAddresses().size()))
                    .as("control connections vsftpd logged").containsExactly(Topology.GATEWAY_SERVER_SIDE_V4);
        }

        static Stream<Arguments> pending() {
            return Stream.of(Arguments.of(SERVER_V4, "PASV", Topology.CLIENT_V4, Topology.THIRD_V4, "/32"),
                    Arguments.of(SERVER_V4, "EPSV", Topology.CLIENT_V4, Topology.THIRD_V4, "/32"),
                    Arguments.of(SERVER_V6, "EPSV", Topology.CLIENT_V6, Topology.THIRD_V6, "/128"));
        }

        @ParameterizedTest(name = "{0} {1}")
        @MethodSource("pending")
        void pendingPassiveConnectionIsDivertedForTheClientOnly(FtpEndpoint endpoint, String verb, String client,
                                                               String third, String prefix) {
            try (ProbeSession probe = ProbeSession.open(topology, endpoint)) {
                String reply = probe.command(verb);
                assertThat(reply).as("reply to %s", verb).startsWith(verb.equals("PASV") ? "227" : "229");
                int port = ProbeSession.announcedPort(reply);
                assertThat(rules.mangleLeases()).as("diversions (mangle) while the data connection is pending")
                        .singleElement().satisfies(rule -> assertThat(rule)
                                .contains("-s " + client + prefix, "-d " + endpoint.host() + prefix, "--dport " + port));
                assertThat(rules.leases().stream().filter(r -> r.contains("ftpgate session")))
                        .as("lease rules in %s (filter) while the data connection is pending", GatewayRules.CHAIN)
                        .singleElement().satisfies(rule -> assertThat(rule)
                                .contains("-s " + client + prefix, "-d " + endpoint.host() + prefix, "--dport " + port));

                assertThat(probe.connect(third, endpoint.host(), port)).as("a third host connecting to %s port %d",
                        endpoint.host(), port).startsWith("FAILED");
                assertThat(probe.connect(client, endpoint.host(), port)).as("the client connecting to %s port %d",
                        endpoint.host(), port).isEqualTo("CONNECTED");
                rules.awaitNoLeasesAnywhere();
            }
        }

        @Test
        void unusedDiversionIsRemovedAfterTheConnectTimeout() {
            try (ProbeSession probe = ProbeSession.open(topology, SERVER_V4)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                assertThat(rules.leaseRulesAnywhere()).as("lease rules while pending").hasSize(2);
                await("diversion removed after data.connect-timeout").atMost(java.time.Duration.ofSeconds(8))
                        .pollInterval(java.time.Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(rules.leaseRulesAnywhere()).isEmpty());
                assertThat(probe.command("NOOP")).as("the session survives the timeout").startsWith("200");
            }
        }

        @Test
        void failedTransferRemovesThePendingDiversion() {
            try (ProbeSession probe = ProbeSession.open(topology, SERVER_V4)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                assertThat(rules.leaseRulesAnywhere()).as("lease rules while pending").hasSize(2);
                assertThat(probe.command("RETR no-such-file")).as("the server's answer").startsWith("550");
                rules.awaitNoLeasesAnywhere();
                assertThat(probe.command("NOOP")).startsWith("200");
            }
        }

        @Test
        void sessionEndRemovesThePendingDiversion() {
            try (ProbeSession probe = ProbeSession.open(topology, SERVER_V6)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                assertThat(rules.leaseRulesAnywhere()).as("lease rules while pending").hasSize(2);
            }
            rules.awaitNoLeasesAnywhere();
        }

        static Stream<Arguments> denied() {
            return Stream.of(Arguments.of(new FtpEndpoint(DENIED_V4, VsftpdServer.PORT), "destination_denied"),
                    Arguments.of(new FtpEndpoint(DENIED_V6, VsftpdServer.PORT), "destination_denied"),
                    Arguments.of(new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, VsftpdServer.PORT), "destination_loop"),
                    Arguments.of(new FtpEndpoint(Topology.GATEWAY_SERVER_SIDE_V6, VsftpdServer.PORT), "destination_loop"));
        }

        /** A server outside the allow list, or the gateway itself (intercepted like any port 21): 421. */
        @ParameterizedTest(name = "{0}: {1}")
        @MethodSource("denied")
        void refusedDestinationGets421(FtpEndpoint endpoint, String reason) {
            String logBefore = daemon.log();
            ExecResult result = new Curl().list(topology, endpoint, FtpMode.EPSV);
            assertThat(result.ok()).as(result.describe()).isFalse();
            assertThat(replies(result)).as("what curl saw:\n%s", result.describe()).anyMatch(l -> l.startsWith("421 "));
            assertThat(daemon.log().substring(logBefore.length())).as("gateway log")
                    .containsPattern("session \\d+: destination \\S+:21 refused: " + reason);
            String metrics = topology.exec(topology.gateway, "curl", "-sS", "http://127.0.0.1:9121/metrics").orThrow().stdout();
            assertThat(metrics).containsPattern("ftpgate_refused_total\\{.*reason=\"" + reason + "\".*\\} [1-9]");
        }
    }

    /**
     * announce = gateway: 227 names the gateway's own address and the data connection goes there; a
     * 229 names no address, so for EPSV the client still connects to the server's address (RFC 2428
     * §3), which is diverted as with announce = server. A client that ignores the 227 address (curl's
     * default) connects to the server's address too, and is diverted likewise.
     */
    @Nested
    @Order(2)
    class AnnounceGateway extends DaemonRun {

        AnnounceGateway() {
            super(settings("transparent.announce = gateway"));
        }

        @Test
        void pasvAnnouncesTheGateway() {
            ExecResult pasv = new Curl().list(topology, SERVER_V4, FtpMode.PASV);
            assertThat(pasv.ok()).as(pasv.describe()).isTrue();
            assertThat(replies(pasv)).as("curl -v:\n%s", pasv.describe())
                    .anyMatch(l -> l.startsWith("227 ") && l.contains("(198,51,100,1,"));
            rules.awaitNoLeasesAnywhere();
        }

        static Stream<Arguments> cases() {
            return Stream.of(
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PASV, Op.RETR),
                    Arguments.of(SERVER_V4, new Lftp(), FtpMode.PASV, Op.STOR),
                    Arguments.of(SERVER_V4, Curl.ignoringPasvAddress(), FtpMode.PASV, Op.RETR),
                    Arguments.of(SERVER_V4, Curl.ignoringPasvAddress(), FtpMode.PASV, Op.STOR),
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.EPSV, Op.RETR),
                    Arguments.of(SERVER_V6, new Curl(), FtpMode.EPSV, Op.RETR),
                    Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPSV, Op.STOR),
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.RETR),
                    Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPRT, Op.STOR));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void transfer(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op) {
            TransparentModeIT.this.transfer("gw", endpoint, tool, mode, op);
        }
    }

    /** preserve-client-address: the server sees the client's address, control and data alike. */
    @Nested
    @Order(3)
    class PreserveClientAddress extends DaemonRun {

        PreserveClientAddress() {
            super(settings("transparent.preserve-client-address = true"));
        }

        static Stream<Arguments> cases() {
            return Stream.of(
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PASV, Op.RETR, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V4, new Lftp(), FtpMode.EPSV, Op.STOR, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.LIST, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V6, new Curl(), FtpMode.EPSV, Op.RETR, Topology.CLIENT_V6),
                    Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPRT, Op.STOR, Topology.CLIENT_V6));
        }

        /**
         * vsftpd logs the control connection's peer; the data connection is then necessarily from
         * the same address, as vsftpd refuses passive connections from any other (pasv_promiscuous=NO).
         */
        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void serverSeesTheClientsAddress(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op, String client) {
            transferSeenFrom("keep", endpoint, tool, mode, op, client);
        }
    }

    /**
     * preserve-client-address with {@code data.active-to-passive = false}: for PORT/EPRT the server
     * leg stays active, so the server connects to the client's address, where the gateway listens
     * transparently behind a diverted lease.
     */
    @Nested
    @Order(4)
    class PreserveClientAddressServerLegActive extends DaemonRun {

        PreserveClientAddressServerLegActive() {
            super(settings("transparent.preserve-client-address = true", "data.active-to-passive = false"));
        }

        static Stream<Arguments> cases() {
            return Stream.of(
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.RETR, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V4, new Lftp(), FtpMode.PORT, Op.STOR, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V6, new Curl(), FtpMode.EPRT, Op.LIST, Topology.CLIENT_V6));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void serverConnectsToTheClientsAddress(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op, String client) {
            transferSeenFrom("keep-active", endpoint, tool, mode, op, client);
        }
    }

    /**
     * The ipset backend: a diversion is two set entries (FTPGATE-divert4/6 and FTPGATE-in4/6),
     * matched by one static MARK rule in the mangle DIVERT chain and one ACCEPT rule in FTPGATE-IN.
     */
    @Nested
    @Order(5)
    class IpsetBackend extends DaemonRun {

        IpsetBackend() {
            super(settings("firewall.backend = ipset"));
        }

        static Stream<Arguments> cases() {
            return Stream.of(
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PASV, Op.RETR),
                    Arguments.of(SERVER_V4, new Lftp(), FtpMode.EPSV, Op.STOR),
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.LIST),
                    Arguments.of(SERVER_V6, new Curl(), FtpMode.EPSV, Op.RETR),
                    Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPRT, Op.STOR));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void transfer(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op) {
            TransparentModeIT.this.transfer("ipset", endpoint, tool, mode, op);
        }

        @Test
        void pendingPassiveConnectionIsDivertedForTheClientOnly() {
            try (ProbeSession probe = ProbeSession.open(topology, SERVER_V4)) {
                String reply = probe.command("EPSV");
                assertThat(reply).startsWith("229");
                int port = ProbeSession.announcedPort(reply);
                String element = Topology.CLIENT_V4 + ",tcp:" + port + "," + Topology.SERVER_V4;
                assertThat(rules.setEntries()).as("set entries while the data connection is pending")
                        .map(entry -> entry.replaceFirst(" timeout \\d+$", ""))
                        .containsExactlyInAnyOrder("add FTPGATE-divert4 " + element, "add FTPGATE-in4 " + element);
                assertThat(rules.leaseRulesAnywhere()).as("no per-lease rule").allMatch(l -> l.startsWith("add "));
                assertThat(probe.connect(Topology.THIRD_V4, Topology.SERVER_V4, port)).as("a third host").startsWith("FAILED");
                assertThat(probe.connect(Topology.CLIENT_V4, Topology.SERVER_V4, port)).as("the client").isEqualTo("CONNECTED");
                rules.awaitNoLeasesAnywhere();
            }
        }
    }

    /** The ipset backend with the server connecting to the client's address (a diversion to the client's address). */
    @Nested
    @Order(6)
    class IpsetPreserveClientAddressServerLegActive extends DaemonRun {

        IpsetPreserveClientAddressServerLegActive() {
            super(settings("firewall.backend = ipset", "transparent.preserve-client-address = true",
                    "data.active-to-passive = false"));
        }

        static Stream<Arguments> cases() {
            return Stream.of(
                    Arguments.of(SERVER_V4, new Curl(), FtpMode.PORT, Op.RETR, Topology.CLIENT_V4),
                    Arguments.of(SERVER_V6, new Lftp(), FtpMode.EPRT, Op.STOR, Topology.CLIENT_V6));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void serverConnectsToTheClientsAddress(FtpEndpoint endpoint, FtpClientTool tool, FtpMode mode, Op op, String client) {
            transferSeenFrom("ipset-keep-active", endpoint, tool, mode, op, client);
        }
    }
}
