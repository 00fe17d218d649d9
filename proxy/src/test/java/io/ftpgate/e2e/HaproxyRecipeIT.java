package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.NetnsLab;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * README recipe 2, "HAProxy in front, one data port range per gateway": HAProxy on the balancer
 * host spreads port 21 over two gateways with PROXY v2 and a /ready check, and forwards each
 * gateway's data port range to that gateway, again with PROXY v2 ({@code proxy-protocol
 * .data-connections}). The gateways run the ipset firewall backend behind INPUT policy DROP, so a
 * data connection gets in only through its lease, which names the balancer.
 *
 * <p>One topology for all cases, in order: transfers (curl EPSV and PASV, Python ftplib) land on
 * the gateway that owns their port and succeed, the gateways log the real client; PORT naming the
 * client is accepted, naming the balancer or a third host refused; a PROXY header sent straight to
 * a gateway by another host is refused, on the control port and on a pending data port (by the
 * firewall, and by ftpgate behind it), and attributes nothing; a drained gateway gets no new
 * sessions while its running one still transfers.
 *
 * <pre>
 *   cli 198.51.100.10 ─┐
 *   att 198.51.100.66 ─┴ lb 198.51.100.1 (haproxy :21 → a|b, :40000-40099 → a, :41000-41099 → b)
 *                        lb 192.0.2.1 ── sw:br0 ──┬── a 192.0.2.2 ── sw:br1 ──┬── srv 203.0.113.10:2121
 *                                                 └── b 192.0.2.3 ────────────┘   (ftpgate demo: the FTP server)
 * </pre>
 */
@Tag("netns")
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HaproxyRecipeIT {
    private static final String JAR = System.getProperty("ftpgate.jar");
    private static final String VIP = "198.51.100.1";
    private static final String CLIENT = "198.51.100.10";
    private static final String ATTACKER = "198.51.100.66";
    private static final String BALANCER = "192.0.2.1";
    private static final String RANGE_A = "40000-40099";
    private static final String RANGE_B = "41000-41099";
    private static final Duration STARTUP = Duration.ofSeconds(90);

    /** A small FTP client in Python's standard library, run in the client namespace. */
    private static final String CLIENT_PY = String.join("\n",
            "import ftplib, hashlib, os, socket, sys, time",
            "cmd = sys.argv[1]",
            "if cmd == 'port':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login()",
            "    for host in sys.argv[3:]:",
            "        try:",
            "            print(f.sendcmd('PORT ' + host.replace('.', ',') + ',200,10'))",
            "        except ftplib.Error as e:",
            "            print(e)",
            "    f.quit()",
            "elif cmd == 'get':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login()",
            "    h = hashlib.sha256(); f.retrbinary('RETR sample.bin', h.update); f.quit()",
            "    print(h.hexdigest())",
            "elif cmd == 'spoof':",
            "    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)",
            "    s.sendall(('PROXY TCP4 %s %s 50000 %s\\r\\n' % (sys.argv[4], sys.argv[2], sys.argv[3])).encode())",
            "    try:",
            "        data = s.recv(100)",
            "    except ConnectionResetError:",
            "        data = b''",
            "    print('received %d bytes' % len(data))",
            "elif cmd == 'probe':",
            "    try:",
            "        socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=2).close(); print('connected')",
            "    except OSError as e:",
            "        print('no connection: %s' % e)",
            "elif cmd == 'hold':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login(); f.voidcmd('TYPE I')",
            "    host, port = ftplib.parse227(f.sendcmd('PASV'))",
            "    print('port', port, flush=True)",
            "    while not os.path.exists(sys.argv[3]):",
            "        time.sleep(0.1)",
            "    s = socket.create_connection((sys.argv[2], port), timeout=10)",
            "    f.putcmd('RETR sample.bin'); print(f.getresp(), flush=True)",
            "    h = hashlib.sha256()",
            "    while True:",
            "        b = s.recv(65536)",
            "        if not b:",
            "            break",
            "        h.update(b)",
            "    s.close(); print(f.voidresp()); f.quit()",
            "    print(h.hexdigest())",
            "elif cmd == 'long':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login()",
            "    print('logged in', flush=True)",
            "    while not os.path.exists(sys.argv[3]):",
            "        time.sleep(0.2)",
            "    print('listing', len(f.nlst()), flush=True)",
            "    f.quit()",
            "    print('done', flush=True)",
            "");

    private static String haproxyConfig() {
        return String.join("\n",
                "global",
                "  log stdout format raw local0",
                "defaults",
                "  mode tcp",
                "  log global",
                "  option tcplog",
                "  timeout connect 3s",
                "  timeout client 60s",
                "  timeout server 60s",
                "  retries 2",
                "  option redispatch",
                "frontend ftp_control",
                "  bind " + VIP + ":21",
                "  default_backend gateways",
                "backend gateways",
                "  balance roundrobin",
                "  option httpchk GET /ready",
                "  server a 192.0.2.2:21 send-proxy-v2 check port 9121 inter 500 fall 2 rise 2",
                "  server b 192.0.2.3:21 send-proxy-v2 check port 9121 inter 500 fall 2 rise 2",
                // Each gateway's data ports go to that gateway, on the port the client dialled.
                "frontend data_a",
                "  bind " + VIP + ":" + RANGE_A,
                "  default_backend data_a",
                "backend data_a",
                "  option httpchk GET /health",
                "  server a 192.0.2.2 send-proxy-v2 check port 9121 inter 1s",
                "frontend data_b",
                "  bind " + VIP + ":" + RANGE_B,
                "  default_backend data_b",
                "backend data_b",
                "  option httpchk GET /health",
                "  server b 192.0.2.3 send-proxy-v2 check port 9121 inter 1s",
                "");
    }

    private static String gatewayConfig(String name, String range) {
        return String.join("\n",
                "ftpgate {",
                "  instance-name = " + name,
                "  listeners.main { listen = [\"0.0.0.0:21\"], upstream = \"203.0.113.10:2121\",",
                "                   proxy-protocol { enabled = true, trusted = [\"" + BALANCER + "/32\"],",
                "                                    data-connections = true } }",
                "  data { port-range = \"" + range + "\", advertised-address = \"" + VIP + "\", connect-timeout = 20s }",
                "  metrics.listen = \"0.0.0.0:9121\"",
                "  firewall.backend = ipset",
                "  drain.lb-grace = 1s",
                "}",
                "");
    }

    private NetnsLab lab;
    private String cli;
    private String att;
    private String lb;
    private String a;
    private String b;
    private Process gatewayB;

    @BeforeAll
    void topology() {
        RootTools.requireRootAndTools("ip", "iptables", "ipset", "haproxy", "curl", "sha256sum", "python3");
        assertThat(JAR).as("system property ftpgate.jar (run with mvn verify)").isNotNull();
        lab = NetnsLab.create();
        String sw = lab.namespace("sw");
        cli = lab.namespace("cli");
        att = lab.namespace("att");
        lb = lab.namespace("lb");
        a = lab.namespace("a");
        b = lab.namespace("b");
        String srv = lab.namespace("srv");
        lab.attach(sw, "brc", cli, "eth0", CLIENT + "/24");
        lab.attach(sw, "brc", att, "eth0", ATTACKER + "/24");
        lab.attach(sw, "brc", lb, "eth0", VIP + "/24");
        lab.attach(sw, "brg", lb, "eth1", BALANCER + "/24");
        lab.attach(sw, "brg", a, "eth0", "192.0.2.2/24");
        lab.attach(sw, "brg", b, "eth0", "192.0.2.3/24");
        lab.attach(sw, "brs", a, "eth1", "203.0.113.2/24");
        lab.attach(sw, "brs", b, "eth1", "203.0.113.3/24");
        lab.attach(sw, "brs", srv, "eth0", "203.0.113.10/24");
        lab.exec(cli, "ip", "route", "add", "default", "via", VIP);
        lab.exec(att, "ip", "route", "add", "default", "via", VIP);
        lab.exec(a, "ip", "route", "add", "default", "via", BALANCER);
        lab.exec(b, "ip", "route", "add", "default", "via", BALANCER);
        // Routed: the gateways' active-mode connections to clients, and a host that dials a gateway directly.
        lab.exec(lb, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        for (String gw : new String[] {a, b}) {
            // Only the control port, the metrics port and what ftpgate's leases let in.
            lab.exec(gw, "iptables", "-P", "INPUT", "DROP");
            lab.exec(gw, "iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
            lab.exec(gw, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT");
            lab.exec(gw, "iptables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "21,9121", "-j", "ACCEPT");
        }
        lab.write("client.py", CLIENT_PY);

        lab.start(srv, "ftp-server", Topology.JAVA, "-jar", JAR, "--demo", "--listen", "0.0.0.0:2121");
        lab.start(a, "ftpgate-a", Topology.JAVA, "-jar", JAR, "--config", lab.write("a.conf", gatewayConfig("gw-a", RANGE_A)).toString());
        gatewayB = lab.start(b, "ftpgate-b", Topology.JAVA, "-jar", JAR, "--config",
                lab.write("b.conf", gatewayConfig("gw-b", RANGE_B)).toString());
        // Three JVMs start at once on a shared builder: generous, a ready one answers at once.
        await("ftp server").atMost(STARTUP).pollInterval(Duration.ofMillis(300))
                .until(() -> lab.tryExec(srv, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
        awaitReady(a);
        awaitReady(b);
        lab.start(lb, "haproxy", "haproxy", "-db", "-f", lab.write("lb.cfg", haproxyConfig()).toString());
        await("haproxy listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> lab.tryExec(lb, "ss", "-Hltn").stdout().contains(VIP + ":21 "));
    }

    @AfterAll
    void removeTopology() {
        if (lab != null) {
            lab.close();
        }
    }

    private void awaitReady(String ns) {
        await("ftpgate ready in " + ns).atMost(STARTUP).pollInterval(Duration.ofMillis(300)).until(() ->
                lab.tryExec(ns, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
    }

    private String metrics(String ns) {
        return lab.tryExec(ns, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9121/metrics").stdout();
    }

    /** The sum of a counter's series whose line starts with {@code prefix} (name and, optionally, labels). */
    private double counter(String ns, String prefix) {
        return metrics(ns).lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private double sessions(String ns) {
        return counter(ns, "ftpgate_sessions_total{");
    }

    private double completedTransfers(String ns) {
        return metrics(ns).lines().filter(l -> l.startsWith("ftpgate_transfers_total{") && l.contains("outcome=\"completed\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private ExecResult python(String ns, String... args) {
        String[] argv = new String[args.length + 2];
        argv[0] = "/usr/bin/python3";
        argv[1] = lab.file("client.py").toString();
        System.arraycopy(args, 0, argv, 2, args.length);
        return lab.tryExec(ns, argv);
    }

    private void curl(boolean epsv) {
        ExecResult r = lab.tryExec(cli, "sh", "-c", "curl -sS --max-time 15 " + (epsv ? "" : "--disable-epsv ")
                + "ftp://" + VIP + "/sample.bin | sha256sum");
        assertThat(r.ok()).as(r.describe()).isTrue();
        assertThat(r.stdout()).startsWith(KeepalivedRecipeIT.SAMPLE_SHA256 + " ");
    }

    private void ftplib() {
        ExecResult r = python(cli, "get", VIP);
        assertThat(r.ok()).as(r.describe()).isTrue();
        assertThat(r.stdout().trim()).isEqualTo(KeepalivedRecipeIT.SAMPLE_SHA256);
    }

    @Test
    @Order(1)
    void everyTransferLandsOnTheGatewayThatOwnsItsPortAndTheGatewaysLogTheRealClient() {
        // Round robin: with six sessions, three on each gateway, whichever takes the first.
        curl(true);
        curl(true);
        curl(false);
        curl(false);
        ftplib();
        ftplib();
        assertThat(sessions(a)).as("round robin: a").isEqualTo(3);
        assertThat(sessions(b)).as("round robin: b").isEqualTo(3);
        // A data connection sent to the other gateway would find no listener there and fail the transfer.
        assertThat(completedTransfers(a)).as("each of a's sessions transferred through a").isEqualTo(3);
        assertThat(completedTransfers(b)).as("each of b's sessions transferred through b").isEqualTo(3);
        // HAProxy logs a connection when it ends.
        await("HAProxy's log of the data connections").atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String haproxy = lab.log("haproxy");
            assertThat(haproxy.lines().filter(l -> l.contains(" data_a data_a/a ")).count()).as("to a's range").isEqualTo(3);
            assertThat(haproxy.lines().filter(l -> l.contains(" data_b data_b/b ")).count()).as("to b's range").isEqualTo(3);
        });
        for (String gw : new String[] {a, b}) {
            assertThat(counter(gw, "ftpgate_refused_total{reason=\"wrong_peer\"")).as("no data connection refused").isZero();
            assertThat(counter(gw, "ftpgate_proxy_headers_total{outcome=\"proxied\"")).as("a header on each control and data connection")
                    .isEqualTo(6);
        }
        String logA = lab.log("ftpgate-a");
        assertThat(logA).as("gw-a logs the real client, for the session and for each transfer")
                .containsPattern("INFO  gw-a session: session \\d+ \\[main\\] 198\\.51\\.100\\.10:\\d+ connected")
                .containsPattern("INFO  gw-a session: session \\d+: transfer client=198\\.51\\.100\\.10 ")
                .doesNotContain("[main] 192.0.2.1:")
                .doesNotContain("client=192.0.2.1");
        assertThat(lab.log("ftpgate-b")).containsPattern("INFO  gw-b session: session \\d+: transfer client=198\\.51\\.100\\.10 ");
    }

    @Test
    @Order(2)
    void portNamingTheClientIsAcceptedAndNamingTheBalancerOrAThirdHostRefused() {
        ExecResult port = python(cli, "port", VIP, CLIENT, VIP, "203.0.113.10");
        assertThat(port.ok()).as(port.describe()).isTrue();
        assertThat(port.stdout().lines().toList()).as(port.describe()).hasSize(3)
                .satisfies(l -> assertThat(l.get(0)).startsWith("200"))
                .satisfies(l -> assertThat(l.get(1)).startsWith("504"))
                .satisfies(l -> assertThat(l.get(2)).startsWith("504"));
    }

    @Test
    @Order(3)
    void aProxyHeaderSentStraightToAGatewayIsRefusedAndAttributesNothing() throws Exception {
        double untrustedA = counter(a, "ftpgate_proxy_headers_total{outcome=\"untrusted\"");
        ExecResult spoof = python(att, "spoof", "192.0.2.2", "21", "198.51.100.99");
        assertThat(spoof.stdout()).as(spoof.describe()).contains("received 0 bytes");
        await().atMost(Duration.ofSeconds(3)).until(() ->
                counter(a, "ftpgate_proxy_headers_total{outcome=\"untrusted\"") == untrustedA + 1);
        assertThat(lab.log("ftpgate-a")).doesNotContain("198.51.100.99");

        // A pending passive port, and a host that knows it: the lease names the balancer alone.
        Path go = lab.file("go-hold");
        Process hold = lab.start(cli, "hold", "/usr/bin/python3", lab.file("client.py").toString(), "hold", VIP, go.toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> lab.log("hold").contains("port "));
        int port = Integer.parseInt(lab.log("hold").lines().filter(l -> l.startsWith("port ")).findFirst().orElseThrow()
                .substring(5).trim());
        boolean onA = port >= 40000 && port <= 40099;
        String owner = onA ? a : b;
        String ownerAddress = onA ? "192.0.2.2" : "192.0.2.3";
        String ownerLog = onA ? "ftpgate-a" : "ftpgate-b";
        String entries = lab.exec(owner, "ipset", "list").stdout();
        assertThat(entries).as("the lease: from the balancer, to the port on the gateway")
                .contains(BALANCER + ",tcp:" + port + "," + ownerAddress)
                .doesNotContain(CLIENT + ",tcp:");
        assertThat(python(att, "probe", ownerAddress, String.valueOf(port)).stdout()).as("the firewall drops the stranger")
                .startsWith("no connection");

        double untrusted = counter(owner, "ftpgate_proxy_headers_total{outcome=\"untrusted\"");
        double proxied = counter(owner, "ftpgate_proxy_headers_total{outcome=\"proxied\"");
        double transfers = completedTransfers(owner);
        // Behind a firewall that lets it through, ftpgate refuses the stranger itself, header unread.
        lab.exec(owner, "iptables", "-I", "INPUT", "1", "-s", ATTACKER, "-j", "ACCEPT");
        try {
            ExecResult data = python(att, "spoof", ownerAddress, String.valueOf(port), CLIENT);
            assertThat(data.stdout()).as(data.describe()).contains("received 0 bytes");
        } finally {
            lab.exec(owner, "iptables", "-D", "INPUT", "-s", ATTACKER, "-j", "ACCEPT");
        }
        await().atMost(Duration.ofSeconds(3)).until(() ->
                counter(owner, "ftpgate_proxy_headers_total{outcome=\"untrusted\"") == untrusted + 1);
        assertThat(lab.log(ownerLog)).contains("data connection from " + ATTACKER + ":")
                .contains("not a trusted PROXY protocol peer");
        assertThat(completedTransfers(owner)).as("nothing transferred for the stranger").isEqualTo(transfers);
        assertThat(counter(owner, "ftpgate_proxy_headers_total{outcome=\"proxied\"")).as("no header read from it")
                .isEqualTo(proxied);

        // The port was not spent: the client's own connection through the balancer still gets the file.
        Files.writeString(go, "go");
        assertThat(hold.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String held = lab.log("hold");
        assertThat(hold.exitValue()).as(held).isZero();
        assertThat(held).contains("150").contains("226").contains(KeepalivedRecipeIT.SAMPLE_SHA256);
        assertThat(completedTransfers(owner)).isEqualTo(transfers + 1);
    }

    @Test
    @Order(4)
    void aDrainedGatewayGetsNoNewSessionsWhileItsRunningOneStillTransfers() throws Exception {
        // Round robin puts one of two new sessions on each gateway.
        double onA = sessions(a);
        double onB = sessions(b);
        String go = lab.file("go").toString();
        Process first = lab.start(cli, "long-1", "/usr/bin/python3", lab.file("client.py").toString(), "long", VIP, go);
        await().atMost(Duration.ofSeconds(10)).until(() -> lab.log("long-1").contains("logged in"));
        Process second = lab.start(cli, "long-2", "/usr/bin/python3", lab.file("client.py").toString(), "long", VIP, go);
        await().atMost(Duration.ofSeconds(10)).until(() -> lab.log("long-2").contains("logged in"));
        assertThat(sessions(a)).as("one running session on a").isEqualTo(onA + 1);
        assertThat(sessions(b)).as("one running session on b").isEqualTo(onB + 1);
        assertThat(lab.exec(a, "curl", "-fsS", "-X", "POST", "http://127.0.0.1:9121/drain").stdout()).startsWith("draining");
        await("haproxy marks a down").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> lab.log("haproxy").contains("Server gateways/a is DOWN"));
        double drainedA = sessions(a);
        double beforeB = sessions(b);
        for (int i = 0; i < 4; i++) {
            curl(i % 2 == 0);
        }
        assertThat(sessions(a)).as("no new session on the drained gateway").isEqualTo(drainedA);
        assertThat(sessions(b)).as("all new sessions on b").isEqualTo(beforeB + 4);
        Files.writeString(Path.of(go), "go");
        for (Process p : new Process[] {first, second}) {
            assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("the running sessions (one on the drained a) finish their listing, "
                    + "its data connection through a's range: %s%s", lab.log("long-1"), lab.log("long-2")).isZero();
        }
    }

    @Test
    @Order(5)
    void killingAGatewayRedispatchesNewSessionsToTheOther() throws Exception {
        assertThat(lab.exec(a, "curl", "-fsS", "-X", "POST", "http://127.0.0.1:9121/undrain").ok()).isTrue();
        await("haproxy marks a up again").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> lab.log("haproxy").contains("Server gateways/a is UP"));
        double onA = sessions(a);
        NetnsLab.crash(gatewayB);
        // At once, before HAProxy's check has seen it: a connection to b fails, and redispatch retries on a.
        for (int i = 0; i < 4; i++) {
            curl(i % 2 == 0);
        }
        ftplib();
        assertThat(sessions(a)).as("every new session on the surviving gateway").isEqualTo(onA + 5);
        await("haproxy marks b down").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> lab.log("haproxy").contains("Server gateways/b is DOWN"));
    }
}
