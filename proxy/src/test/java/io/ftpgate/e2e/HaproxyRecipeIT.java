package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.NetnsLab;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;

/**
 * README recipe 2, "HAProxy for control connections, one data port range per gateway": HAProxy on
 * the balancer host spreads port 21 over two gateways with PROXY v2 and a /ready check; the
 * balancer's kernel forwards each gateway's data port range to that gateway (DNAT keeps the
 * client's address). Transfers work with EPSV and PASV, each data connection lands on the
 * gateway that owns its port, the gateways log and check the real client address (PORT naming the
 * client accepted, naming the balancer or a third host refused), a PROXY header sent straight to a
 * gateway by the client is refused, and a drained gateway gets no new sessions while its running
 * one still transfers.
 *
 * <pre>
 *   cli 198.51.100.10 ── lb 198.51.100.1 (haproxy :21, DNAT 40000-40999 → a, 41000-41999 → b)
 *                        lb 192.0.2.1 ── sw:br0 ──┬── a 192.0.2.2 ── sw:br1 ──┬── srv 203.0.113.10:2121
 *                                                 └── b 192.0.2.3 ────────────┘   (ftpgate demo: the FTP server)
 * </pre>
 */
@Tag("netns")
@Timeout(240)
class HaproxyRecipeIT {
    private static final String JAR = System.getProperty("ftpgate.jar");
    private static final String VIP = "198.51.100.1";
    private static final String CLIENT = "198.51.100.10";

    /** A small FTP client in Python's standard library, run in the client namespace. */
    private static final String CLIENT_PY = String.join("\n",
            "import ftplib, socket, sys, time",
            "cmd = sys.argv[1]",
            "if cmd == 'port':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login()",
            "    for host in sys.argv[3:]:",
            "        try:",
            "            print(f.sendcmd('PORT ' + host.replace('.', ',') + ',200,10'))",
            "        except ftplib.Error as e:",
            "            print(e)",
            "    f.quit()",
            "elif cmd == 'spoof':",
            "    s = socket.create_connection((sys.argv[2], 21), timeout=5)",
            "    s.sendall(b'PROXY TCP4 198.51.100.99 192.0.2.2 40000 21\\r\\n')",
            "    try:",
            "        data = s.recv(100)",
            "    except ConnectionResetError:",
            "        data = b''",
            "    print('received %d bytes' % len(data))",
            "elif cmd == 'long':",
            "    f = ftplib.FTP(); f.connect(sys.argv[2], 21, timeout=10); f.login()",
            "    print('logged in', flush=True)",
            "    while not __import__('os').path.exists(sys.argv[3]):",
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
                "");
    }

    private static String gatewayConfig(String name, String range) {
        return String.join("\n",
                "ftpgate {",
                "  instance-name = " + name,
                "  listeners.main { listen = [\"0.0.0.0:21\"], upstream = \"203.0.113.10:2121\",",
                "                   proxy-protocol { enabled = true, trusted = [\"192.0.2.1/32\"] } }",
                "  data { port-range = \"" + range + "\", advertised-address = \"" + VIP + "\" }",
                "  metrics.listen = \"0.0.0.0:9121\"",
                "  firewall.backend = none",
                "  drain.lb-grace = 1s",
                "}",
                "");
    }

    private static double sessions(NetnsLab lab, String ns) {
        ExecResult m = lab.tryExec(ns, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9121/metrics");
        return m.stdout().lines().filter(l -> l.startsWith("ftpgate_sessions_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static void transfer(NetnsLab lab, String cli, boolean epsv) {
        ExecResult r = lab.tryExec(cli, "sh", "-c", "curl -sS --max-time 15 " + (epsv ? "" : "--disable-epsv ")
                + "ftp://" + VIP + "/sample.bin | sha256sum");
        assertThat(r.ok()).as(r.describe()).isTrue();
        assertThat(r.stdout()).startsWith(KeepalivedRecipeIT.SAMPLE_SHA256 + " ");
    }

    private static void awaitReady(NetnsLab lab, String ns) {
        await("ftpgate ready in " + ns).atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(300)).until(() ->
                lab.tryExec(ns, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
    }

    @Test
    void controlThroughHaproxyWithProxyV2AndDataRangesForwardedToTheirOwners() throws Exception {
        RootTools.requireRootAndTools("ip", "iptables", "haproxy", "curl", "sha256sum", "python3");
        assertThat(JAR).as("system property ftpgate.jar (run with mvn verify)").isNotNull();
        try (NetnsLab lab = NetnsLab.create()) {
            String sw = lab.namespace("sw");
            String cli = lab.namespace("cli");
            String lb = lab.namespace("lb");
            String a = lab.namespace("a");
            String b = lab.namespace("b");
            String srv = lab.namespace("srv");
            lab.attach(sw, "brc", cli, "eth0", CLIENT + "/24");
            lab.attach(sw, "brc", lb, "eth0", VIP + "/24");
            lab.attach(sw, "brg", lb, "eth1", "192.0.2.1/24");
            lab.attach(sw, "brg", a, "eth0", "192.0.2.2/24");
            lab.attach(sw, "brg", b, "eth0", "192.0.2.3/24");
            lab.attach(sw, "brs", a, "eth1", "203.0.113.2/24");
            lab.attach(sw, "brs", b, "eth1", "203.0.113.3/24");
            lab.attach(sw, "brs", srv, "eth0", "203.0.113.10/24");
            lab.exec(cli, "ip", "route", "add", "default", "via", VIP);
            lab.exec(a, "ip", "route", "add", "default", "via", "192.0.2.1");
            lab.exec(b, "ip", "route", "add", "default", "via", "192.0.2.1");
            lab.exec(lb, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            lab.exec(lb, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", VIP, "-p", "tcp", "--dport", "40000:40999",
                    "-j", "DNAT", "--to-destination", "192.0.2.2");
            lab.exec(lb, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", VIP, "-p", "tcp", "--dport", "41000:41999",
                    "-j", "DNAT", "--to-destination", "192.0.2.3");
            lab.write("client.py", CLIENT_PY);

            lab.start(srv, "ftp-server", Topology.JAVA, "-jar", JAR, "--demo", "--listen", "0.0.0.0:2121");
            lab.start(a, "ftpgate-a", Topology.JAVA, "-jar", JAR, "--config",
                    lab.write("a.conf", gatewayConfig("gw-a", "40000-40999")).toString());
            lab.start(b, "ftpgate-b", Topology.JAVA, "-jar", JAR, "--config",
                    lab.write("b.conf", gatewayConfig("gw-b", "41000-41999")).toString());
            await("ftp server").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(300))
                    .until(() -> lab.tryExec(srv, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
            awaitReady(lab, a);
            awaitReady(lab, b);
            lab.start(lb, "haproxy", "haproxy", "-db", "-f", lab.write("lb.cfg", haproxyConfig()).toString());
            await("haproxy listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> lab.tryExec(lb, "ss", "-Hltn").stdout().contains(VIP + ":21 "));

            for (int i = 0; i < 4; i++) {
                transfer(lab, cli, i % 2 == 0);
            }
            assertThat(sessions(lab, a)).as("round robin: a").isEqualTo(2);
            assertThat(sessions(lab, b)).as("round robin: b").isEqualTo(2);
            String logA = lab.log("ftpgate-a");
            assertThat(logA).as("gw-a logs the real client")
                    .containsPattern("INFO  gw-a session: session \\d+ \\[main\\] 198\\.51\\.100\\.10:\\d+ connected")
                    .doesNotContain("[main] 192.0.2.1:");

            ExecResult port = lab.tryExec(cli, "/usr/bin/python3", lab.file("client.py").toString(), "port", VIP,
                    CLIENT, VIP, "203.0.113.10");
            assertThat(port.ok()).as(port.describe()).isTrue();
            assertThat(port.stdout().lines().toList()).as(port.describe()).hasSize(3)
                    .satisfies(l -> assertThat(l.get(0)).startsWith("200"))
                    .satisfies(l -> assertThat(l.get(1)).startsWith("504"))
                    .satisfies(l -> assertThat(l.get(2)).startsWith("504"));

            ExecResult spoof = lab.tryExec(cli, "/usr/bin/python3", lab.file("client.py").toString(), "spoof", "192.0.2.2");
            assertThat(spoof.stdout()).as(spoof.describe()).contains("received 0 bytes");
            await().atMost(Duration.ofSeconds(3)).until(() -> lab.tryExec(a, "curl", "-s", "http://127.0.0.1:9121/metrics")
                    .stdout().contains("ftpgate_proxy_headers_total{outcome=\"untrusted\"} 1.0"));
            assertThat(lab.log("ftpgate-a")).doesNotContain("198.51.100.99");

            // Drain a while a session runs on it: new sessions go to b, the running one still transfers.
            // Round robin puts one of two new sessions on each gateway.
            double onA = sessions(lab, a);
            double onB = sessions(lab, b);
            String go = lab.file("go").toString();
            Process first = lab.start(cli, "long-1", "/usr/bin/python3", lab.file("client.py").toString(), "long", VIP, go);
            await().atMost(Duration.ofSeconds(10)).until(() -> lab.log("long-1").contains("logged in"));
            Process second = lab.start(cli, "long-2", "/usr/bin/python3", lab.file("client.py").toString(), "long", VIP, go);
            await().atMost(Duration.ofSeconds(10)).until(() -> lab.log("long-2").contains("logged in"));
            assertThat(sessions(lab, a)).as("one running session on a").isEqualTo(onA + 1);
            assertThat(sessions(lab, b)).as("one running session on b").isEqualTo(onB + 1);
            assertThat(lab.exec(a, "curl", "-fsS", "-X", "POST", "http://127.0.0.1:9121/drain").stdout()).startsWith("draining");
            await("haproxy marks a down").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> lab.log("haproxy").contains("Server gateways/a is DOWN"));
            double drainedA = sessions(lab, a);
            double beforeB = sessions(lab, b);
            for (int i = 0; i < 4; i++) {
                transfer(lab, cli, i % 2 == 0);
            }
            assertThat(sessions(lab, a)).as("no new session on the drained gateway").isEqualTo(drainedA);
            assertThat(sessions(lab, b)).as("all new sessions on b").isEqualTo(beforeB + 4);
            java.nio.file.Files.writeString(java.nio.file.Path.of(go), "go");
            for (Process p : new Process[] {first, second}) {
                assertThat(p.waitFor(15, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as("the running sessions (one on the drained a) finish their listing: %s%s",
                        lab.log("long-1"), lab.log("long-2")).isZero();
            }
        }
    }
}
