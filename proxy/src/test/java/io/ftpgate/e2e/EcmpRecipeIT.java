package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.NetnsLab;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * README recipe 3, "routing only: ECMP for control connections, one data port range per gateway":
 * no proxy and no balancer process. Both gateways carry the service address on {@code lo}; the
 * router in front has an equal-cost multipath route to it over both (hashing on the ports too,
 * {@code fib_multipath_hash_policy = 1}; for IPv6 a resilient nexthop group), and one
 * {@code ip rule ... dport} per gateway sends that gateway's {@code data.port-range} to it alone. Each gateway runs ftpgate with the kernel data path
 * on the nftables backend, behind its own admin ruleset that drops input and forward. Sessions from
 * several client addresses and ports spread over both gateways, and every transfer works (curl EPSV
 * and PASV, Python's ftplib PASV and EPSV with uploads, IPv4 and IPv6), checked by SHA-256, with no
 * byte relayed by ftpgate. Active mode (PORT/EPRT, kept active) needs one stateful rule set on the
 * router, added by the active-mode cases: a connection a gateway opens towards the client has an ordinary
 * ephemeral source port, which no {@code dport} rule names, so without it the client's answers are
 * hashed to either gateway. Last, one gateway dies and its nexthop is withdrawn: its running
 * sessions break, the other's finish, and new sessions all go to the survivor.
 *
 * <pre>
 *                                          ┌ eth1 192.0.2.1/30 ── a 192.0.2.2, VIP on lo (ftpgate data 40000-40999) ┐
 *   cli 198.51.100.10-13 ── rtr 198.51.100.1                                                                       ├ srv 203.0.113.10 (vsftpd :21)
 *                                          └ eth2 192.0.2.5/30 ── b 192.0.2.6, VIP on lo (ftpgate data 41000-41999) ┘
 *   VIP 198.51.100.200 / 2001:db8:100::200; a and b reach srv as 203.0.113.2 / .3 (the kernel path's source translation)
 * </pre>
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
class EcmpRecipeIT {
    private static final String JAR = System.getProperty("ftpgate.jar");
    private static final String VIP = "198.51.100.200";
    private static final String VIP6 = "2001:db8:100::200";
    private static final List<String> CLIENTS = List.of("198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13");
    private static final List<String> CLIENTS6 = List.of("2001:db8:1::10", "2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13");

    /** The admin's ruleset on each gateway: input admits the control port only, forward drops. */
    private static final String GATEWAY_RULESET = """
            table inet filter {
            	chain input {
            		type filter hook input priority filter; policy drop;
            		iif "lo" accept
            		ct state established accept
            		tcp dport 21 ct state new accept
            		meta l4proto ipv6-icmp accept
            	}
            	chain forward {
            		type filter hook forward priority filter; policy drop;
            	}
            }
            """;

    /**
     * Active mode on the router: a connection opened from a gateway's side is marked with that
     * gateway's link, and the client's packets of it carry the mark, which an ip rule turns into the
     * gateway's own table.
     */
    private static final String ROUTER_ACTIVE_RULESET = """
            table inet ftp-active {
            	chain prerouting {
            		type filter hook prerouting priority mangle; policy accept;
            		ct state new iifname "eth1" ct mark set 1
            		ct state new iifname "eth2" ct mark set 2
            		iifname "eth0" ct mark != 0 meta mark set ct mark
            	}
            }
            """;

    /**
     * Python's ftplib in the client namespace: RETR (SHA-256), STOR of seeded bytes (SHA-256), NLST;
     * with a sixth argument it logs in, then waits for that file before transferring.
     */
    private static final String CLIENT_PY = String.join("\n",
            "import ftplib, hashlib, io, os, random, sys, time",
            "host, source, mode, name = sys.argv[1:5]",
            "f = ftplib.FTP(source_address=(source, 0), timeout=10)",
            "f.connect(host, 21)",
            "f.login()",
            "if len(sys.argv) > 5:  # a running session: logged in, it waits for the go file",
            "    print('logged in', flush=True)",
            "    while not os.path.exists(sys.argv[5]):",
            "        time.sleep(0.1)",
            "f.set_pasv(mode == 'passive')  # ftplib: PASV/PORT over IPv4, EPSV/EPRT over IPv6",
            "h = hashlib.sha256()",
            "f.retrbinary('RETR " + VsftpdServer.BIG + "', h.update)",
            "print('RETR', h.hexdigest())",
            "data = random.Random(name).randbytes(512 * 1024)",
            "reply = f.storbinary('STOR " + VsftpdServer.UPLOAD_DIR + "/' + name, io.BytesIO(data))",
            "print('STOR', hashlib.sha256(data).hexdigest(), reply[:3])",
            "print('NLST', len(f.nlst()))",
            "f.quit()",
            "");

    enum Client { CURL, FTPLIB }

    /** One kind of session, run once from each client address. */
    record Case(String name, boolean ipv6, Client client, String curlOptions) {
        @Override
        public String toString() {
            return name;
        }
    }

    private NetnsLab lab;
    private String cli;
    private String rtr;
    private String a;
    private String b;
    private Process gatewayB;
    private VsftpdServer server;
    private String bigSha256;
    private int sessionsRun;
    private int transfersRun;
    private int uploads;

    private static String gatewayConfig(String name, String range) {
        return String.join("\n",
                "ftpgate {",
                "  instance-name = " + name,
                "  listeners {",
                "    v4 { listen = [\"" + VIP + ":21\"], upstream = \"203.0.113.10:21\" }",
                "    v6 { listen = [\"[" + VIP6 + "]:21\"], upstream = \"[2001:db8:2::10]:21\" }",
                "  }",
                "  data { port-range = \"" + range + "\", path = kernel, active-to-passive = false }",
                "  firewall.backend = nftables",
                "  firewall.nftables.hook-chains = [\"inet filter input\", \"inet filter forward\"]",
                "}",
                "");
    }

    @BeforeAll
    void buildTheNetwork() {
        RootTools.requireRootAndTools("ip", "nft", "vsftpd", "curl", "sha256sum", "python3");
        assertThat(JAR).as("system property ftpgate.jar (run with mvn verify)").isNotNull();
        lab = NetnsLab.create();
        String sw = lab.namespace("sw");
        cli = lab.namespace("cli");
        rtr = lab.namespace("rtr");
        a = lab.namespace("a");
        b = lab.namespace("b");
        String srv = lab.namespace("srv");
        lab.attach(sw, "brc", cli, "eth0", CLIENTS.get(0) + "/25");
        lab.attach(sw, "brc", rtr, "eth0", "198.51.100.1/25");
        lab.attach(sw, "bra", rtr, "eth1", "192.0.2.1/30");
        lab.attach(sw, "bra", a, "eth0", "192.0.2.2/30");
        lab.attach(sw, "brb", rtr, "eth2", "192.0.2.5/30");
        lab.attach(sw, "brb", b, "eth0", "192.0.2.6/30");
        lab.attach(sw, "brs", a, "eth1", "203.0.113.2/24");
        lab.attach(sw, "brs", b, "eth1", "203.0.113.3/24");
        lab.attach(sw, "brs", srv, "eth0", "203.0.113.10/24");
        for (String c : CLIENTS.subList(1, CLIENTS.size())) {
            lab.exec(cli, "ip", "addr", "add", c + "/25", "dev", "eth0");
        }
        for (String c : CLIENTS6) {
            v6(cli, c + "/64", "eth0");
        }
        v6(rtr, "2001:db8:1::1/64", "eth0");
        v6(rtr, "2001:db8:a::1/64", "eth1");
        v6(a, "2001:db8:a::2/64", "eth0");
        v6(rtr, "2001:db8:b::1/64", "eth2");
        v6(b, "2001:db8:b::2/64", "eth0");
        v6(a, "2001:db8:2::2/64", "eth1");
        v6(b, "2001:db8:2::3/64", "eth1");
        v6(srv, "2001:db8:2::10/64", "eth0");
        // Over veth the router's multipath hash is not computed from the 5-tuple: a packet keeps the
        // sending socket's hash (skb->hash), which the kernel takes as the flow's L4 hash, and TCP
        // draws a new one at every retransmission timeout (net.core.txrehash), so a SYN that found
        // no listener would be retried on the other gateway. A real router hashes the 5-tuple (or
        // its NIC's RSS hash of it), which never changes for a connection: rehash off, the socket's
        // hash is as fixed as that, and as spread.
        lab.exec(cli, "sysctl", "-q", "-w", "net.core.txrehash=0");
        lab.exec(cli, "ip", "route", "add", "default", "via", "198.51.100.1");
        lab.exec(cli, "ip", "-6", "route", "add", "default", "via", "2001:db8:1::1");

        // Each gateway: the service address on lo, a default route back to the router, routing on
        // (the kernel path forwards), and the admin's own drop-everything ruleset.
        for (String[] g : new String[][] {{a, "192.0.2.1", "2001:db8:a::1"}, {b, "192.0.2.5", "2001:db8:b::1"}}) {
            lab.exec(g[0], "ip", "addr", "add", VIP + "/32", "dev", "lo");
            lab.exec(g[0], "ip", "addr", "add", VIP6 + "/128", "dev", "lo");
            lab.exec(g[0], "ip", "route", "add", "default", "via", g[1]);
            lab.exec(g[0], "ip", "-6", "route", "add", "default", "via", g[2]);
            lab.exec(g[0], "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
            lab.exec(g[0], "nft", "-f", lab.write(g[0] + ".nft", GATEWAY_RULESET).toString());
        }

        // The router: ECMP on the 5-tuple for the service address, each data range to its owner.
        lab.exec(rtr, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1");
        lab.exec(rtr, "ip", "route", "add", VIP + "/32", "nexthop", "via", "192.0.2.2", "dev", "eth1",
                "nexthop", "via", "192.0.2.6", "dev", "eth2");
        // IPv6 through a resilient nexthop group (README: what a failover costs), IPv4 a plain multipath route.
        lab.exec(rtr, "ip", "-6", "nexthop", "add", "id", "1", "via", "2001:db8:a::2", "dev", "eth1");
        lab.exec(rtr, "ip", "-6", "nexthop", "add", "id", "2", "via", "2001:db8:b::2", "dev", "eth2");
        lab.exec(rtr, "ip", "nexthop", "add", "id", "10", "group", "1/2", "type", "resilient", "buckets", "128",
                "idle_timer", "3600");
        lab.exec(rtr, "ip", "-6", "route", "add", VIP6 + "/128", "nhid", "10");
        for (String[] g : new String[][] {{"101", "40000-40999", "192.0.2.2", "eth1", "2001:db8:a::2"},
                                          {"102", "41000-41999", "192.0.2.6", "eth2", "2001:db8:b::2"}}) {
            lab.exec(rtr, "ip", "route", "add", VIP + "/32", "via", g[2], "dev", g[3], "table", g[0]);
            lab.exec(rtr, "ip", "-6", "route", "add", VIP6 + "/128", "via", g[4], "dev", g[3], "table", g[0]);
            lab.exec(rtr, "ip", "rule", "add", "to", VIP + "/32", "ipproto", "tcp", "dport", g[1], "lookup", g[0], "pref", g[0]);
            lab.exec(rtr, "ip", "-6", "rule", "add", "to", VIP6 + "/128", "ipproto", "tcp", "dport", g[1], "lookup", g[0],
                    "pref", g[0]);
        }

        server = VsftpdServer.start(lab, srv, "vsftpd", "hello from vsftpd\n", 20261205L);
        bigSha256 = TransferChecks.sha256(server.root().resolve(VsftpdServer.BIG));
        lab.write("client.py", CLIENT_PY);
        lab.start(a, "ftpgate-a", Topology.JAVA, "-jar", JAR, "--config", lab.write("a.conf", gatewayConfig("gw-a", "40000-40999")).toString());
        gatewayB = lab.start(b, "ftpgate-b", Topology.JAVA, "-jar", JAR, "--config", lab.write("b.conf", gatewayConfig("gw-b", "41000-41999")).toString());
        for (String g : List.of(a, b)) {
            await("ftpgate ready in " + g).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .until(() -> lab.tryExec(g, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
        }
    }

    private void v6(String ns, String cidr, String dev) {
        // nodad: usable at once, not after duplicate address detection
        lab.exec(ns, "ip", "-6", "addr", "add", cidr, "dev", dev, "nodad");
    }

    @AfterAll
    void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    /** The gateway the router picks for a TCP packet from {@code client}:{@code sport} to the service's {@code dport}. */
    private String nexthop(String client, int sport, int dport) {
        boolean v6 = client.contains(":");
        String route = lab.exec(rtr, "ip", v6 ? "-6" : "-4", "route", "get", v6 ? VIP6 : VIP, "from", client, "iif", "eth0",
                "ipproto", "tcp", "sport", String.valueOf(sport), "dport", String.valueOf(dport)).stdout();
        return route.contains(" dev eth1 ") ? "a" : route.contains(" dev eth2 ") ? "b" : route;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneClientPerFamily")
    @Order(1)
    void theRouterHashesControlConnectionsAndSendsEachDataRangeToItsOwner(String client) {
        Set<String> control = new HashSet<>();
        for (int sport = 50000; sport < 50016; sport++) {
            control.add(nexthop(client, sport, 21));
            assertThat(nexthop(client, sport, 40123)).as("a data port of a, from source port %d", sport).isEqualTo("a");
            assertThat(nexthop(client, sport, 41123)).as("a data port of b, from source port %d", sport).isEqualTo("b");
        }
        assertThat(control).as("port 21 from 16 source ports of one client").containsExactlyInAnyOrder("a", "b");
    }

    static Stream<String> oneClientPerFamily() {
        return Stream.of(CLIENTS.get(0), CLIENTS6.get(0));
    }

    static Stream<Case> passiveCases() {
        return Stream.of(
                new Case("curl EPSV, IPv4", false, Client.CURL, ""),
                new Case("curl PASV, IPv4", false, Client.CURL, "--disable-epsv"),
                new Case("ftplib PASV, IPv4 (RETR, STOR, NLST)", false, Client.FTPLIB, "passive"),
                new Case("curl EPSV, IPv6", true, Client.CURL, ""),
                new Case("ftplib EPSV, IPv6 (RETR, STOR, NLST)", true, Client.FTPLIB, "passive"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("passiveCases")
    @Order(2)
    void everyPassiveTransferWorks(Case c) {
        runFromEveryClient(c);
    }

    @Test
    @Order(3)
    void sessionsSpreadOverBothGatewaysAndTheKernelCarriedEveryTransfer() {
        double onA = sessions(a);
        double onB = sessions(b);
        System.out.printf("ECMP: %d sessions, %.0f on gateway a, %.0f on gateway b%n", sessionsRun, onA, onB);
        assertThat(onA + onB).as("every session, counted once").isEqualTo(sessionsRun);
        // Both gateways hash-picked at least twice of 20: a uniform hash misses that about once in 20,000 runs.
        assertThat(onA).as("sessions on a").isGreaterThanOrEqualTo(2);
        assertThat(onB).as("sessions on b").isGreaterThanOrEqualTo(2);
        assertKernelCarriedEveryTransfer();
    }

    static Stream<Case> activeCases() {
        return Stream.of(
                new Case("curl PORT, IPv4", false, Client.CURL, "-P - --disable-eprt"),
                new Case("curl EPRT, IPv6", true, Client.CURL, "-P -"),
                new Case("ftplib PORT, IPv4 (RETR, STOR, NLST)", false, Client.FTPLIB, "active"));
    }

    /** Active mode, with the router's connection marks; ftpgate keeps it active, so the kernel forwards it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activeCases")
    @Order(4)
    void everyActiveTransferWorksOnceTheRouterMarksGatewayConnections(Case c) {
        if (lab.tryExec(rtr, "nft", "list", "table", "inet", "ftp-active").exitCode() != 0) {
            lab.exec(rtr, "nft", "-f", lab.write("rtr-active.nft", ROUTER_ACTIVE_RULESET).toString());
            lab.exec(rtr, "ip", "rule", "add", "fwmark", "1", "lookup", "101", "pref", "91");
            lab.exec(rtr, "ip", "rule", "add", "fwmark", "2", "lookup", "102", "pref", "92");
            lab.exec(rtr, "ip", "-6", "rule", "add", "fwmark", "1", "lookup", "101", "pref", "91");
            lab.exec(rtr, "ip", "-6", "rule", "add", "fwmark", "2", "lookup", "102", "pref", "92");
        }
        long before = activeKernelTransfers();
        int transfers = runFromEveryClient(c);
        await("a log line per active transfer").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(activeKernelTransfers() - before).isEqualTo(transfers));
    }

    private long activeKernelTransfers() {
        return transferLines().stream().filter(l -> l.matches(".* mode=(port|eprt) path=kernel completed$")).count();
    }

    @Test
    @Order(5)
    void afterActiveModeEveryTransferStillOnTheKernelPath() {
        assertThat(sessions(a) + sessions(b)).as("every session, counted once").isEqualTo(sessionsRun);
        assertKernelCarriedEveryTransfer();
    }

    /**
     * A gateway dies and its nexthop is withdrawn (as a routing daemon asking /ready would do): its
     * running sessions break, the other gateway's go on, and every new session goes to the other.
     */
    @Test
    @Order(6)
    void whenAGatewayDiesItsSessionsBreakTheOthersGoOnAndNewOnesGoToTheSurvivor() throws Exception {
        double onA = sessions(a);
        double onB = sessions(b);
        String go = lab.file("go").toString();
        List<Process> running = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String name = "hold-" + i;
            running.add(lab.start(cli, name, "/usr/bin/python3", lab.file("client.py").toString(), VIP,
                    CLIENTS.get(i % CLIENTS.size()), "passive", "ecmp-" + name + ".bin", go));
            await(name + " logged in").atMost(Duration.ofSeconds(10)).until(() -> lab.log(name).contains("logged in"));
        }
        double runningOnA = sessions(a) - onA;
        double runningOnB = sessions(b) - onB;
        assertThat(runningOnA + runningOnB).as("the running sessions").isEqualTo(6);

        NetnsLab.crash(gatewayB);
        lab.exec(rtr, "ip", "route", "replace", VIP + "/32", "via", "192.0.2.2", "dev", "eth1");
        java.nio.file.Files.writeString(java.nio.file.Path.of(go), "go");
        int finished = 0;
        for (Process p : running) {
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("a running session ends").isTrue();
            finished += p.exitValue() == 0 ? 1 : 0;
        }
        System.out.printf("ECMP failover: of 6 running sessions %.0f were on a, %.0f on b (killed); %d finished%n",
                runningOnA, runningOnB, finished);
        assertThat((double) finished).as("the running sessions that finish: exactly a's").isEqualTo(runningOnA);

        double before = sessions(a);
        for (String source : CLIENTS) {
            ExecResult r = lab.tryExec(cli, "sh", "-c", "curl -sS --max-time 15 --interface " + source + " ftp://" + VIP
                    + "/" + VsftpdServer.BIG + " | sha256sum");
            assertThat(r.stdout()).as("a new session from %s: %s", source, r.describe()).startsWith(bigSha256 + " ");
        }
        assertThat(sessions(a) - before).as("new sessions, all on a").isEqualTo(CLIENTS.size());
    }

    /** Runs {@code c} once from each client address; returns the number of transfers. */
    private int runFromEveryClient(Case c) {
        int before = transfersRun;
        List<String> sources = c.ipv6() ? CLIENTS6 : CLIENTS;
        String host = c.ipv6() ? "[" + VIP6 + "]" : VIP;
        for (String source : sources) {
            sessionsRun++;
            if (c.client() == Client.CURL) {
                ExecResult r = lab.tryExec(cli, "sh", "-c", "curl -sS --max-time 15 --interface " + source + " "
                        + c.curlOptions() + " ftp://" + host + "/" + VsftpdServer.BIG + " | sha256sum");
                assertThat(r.stdout()).as("%s from %s: %s", c, source, r.describe()).startsWith(bigSha256 + " ");
                transfersRun++;
            } else {
                String name = "ecmp-" + (++uploads) + ".bin";
                ExecResult r = lab.tryExec(cli, "/usr/bin/python3", lab.file("client.py").toString(),
                        c.ipv6() ? VIP6 : VIP, source, c.curlOptions(), name);
                assertThat(r.ok()).as("%s from %s: %s", c, source, r.describe()).isTrue();
                List<String> lines = r.stdout().lines().toList();
                assertThat(lines).as(r.describe()).hasSize(3);
                assertThat(lines.get(0)).as("RETR").isEqualTo("RETR " + bigSha256);
                assertThat(lines.get(1)).as("STOR, as the server stored it")
                        .isEqualTo("STOR " + TransferChecks.sha256(server.uploadDir().resolve(name)) + " 226");
                assertThat(lines.get(2)).as("NLST").matches("NLST [1-9]\\d*");
                transfersRun += 3;
            }
        }
        return transfersRun - before;
    }

    private double sessions(String ns) {
        return metric(ns, "ftpgate_sessions_total");
    }

    private double relayedBytes(String ns) {
        return metric(ns, "ftpgate_relayed_bytes_total");
    }

    /** The sum of a counter's series on the gateway in {@code ns} (0 if it has none yet); its metrics must answer. */
    private double metric(String ns, String name) {
        ExecResult m = lab.exec(ns, "curl", "-fsS", "--max-time", "2", "http://127.0.0.1:9121/metrics");
        return m.stdout().lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The transfer log lines of both gateways. */
    private List<String> transferLines() {
        return Stream.of("ftpgate-a", "ftpgate-b").flatMap(n -> lab.log(n).lines())
                .filter(l -> l.contains(": transfer client=")).toList();
    }

    /** Every transfer log line of both gateways says path=kernel, one per transfer run, and no byte was relayed. */
    private void assertKernelCarriedEveryTransfer() {
        await("a transfer line per transfer").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> transferLines().size() >= transfersRun);
        List<String> lines = transferLines();
        assertThat(lines).as("transfer lines").hasSize(transfersRun);
        assertThat(lines).as("forwarded by the kernel and completed").allMatch(l -> l.matches(".* path=kernel completed$"));
        assertThat(relayedBytes(a) + relayedBytes(b)).as("bytes relayed by ftpgate").isZero();
    }
}
