package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.FtpsCertificates;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code upstream-proxy-protocol} against a real peer that reads the header: HAProxy in the server
 * namespace with {@code accept-proxy} in front of vsftpd, logging the client address it took from
 * the header ({@code %ci}, {@code %fi}). Debian has no ProFTPD mod_proxy_protocol package; HAProxy's
 * reading of the header is the reference implementation.
 *
 * <pre>
 *  client 198.51.100.2       gateway (ftpgate)                         server 203.0.113.2
 *         2001:db8:1::2 ──   v2:  198.51.100.1:21, [2001:db8:1::1]:21 ── haproxy 203.0.113.2:2121 accept-proxy ── vsftpd :21
 *                            v1:  [2001:db8:1::1]:2121               ── haproxy [2001:db8:2::2]:2121 accept-proxy ── vsftpd :21
 *                            tls: 198.51.100.1:2200 (v2, implicit)   ── haproxy 203.0.113.2:2990 accept-proxy ── vsftpd :990 (implicit FTPS)
 *                            off: 198.51.100.1:2121                  ── vsftpd 203.0.113.2:21 directly
 *                            fwd: 198.51.100.1:2201, USER anonymous@203.0.113.2:2121 (v2 from destinations)
 * </pre>
 *
 * Transfers in every mode curl can use on each family pass with checksums (an upload would carry a
 * header into the file if data connections had one); HAProxy logs every session with the client's
 * address (198.51.100.2, 2001:db8:1::2) and the gateway address it reached, never the gateway's
 * own server-side address; TLS towards the server starts after the header (HAProxy would refuse the
 * ClientHello as a header); the listener without the setting talks to plain vsftpd, which would
 * answer a header with 530 and break the session. Its 227 names its own advertised-address. A forward
 * listener's servers get the header of {@code destinations.upstream-proxy-protocol}.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamProxyProtocolIT {
    private static final String GW4 = Topology.GATEWAY_CLIENT_SIDE_V4;
    private static final String GW6 = Topology.GATEWAY_CLIENT_SIDE_V6;
    private static final FtpEndpoint V2_V4 = new FtpEndpoint(GW4, 21);
    private static final FtpEndpoint V2_V6 = new FtpEndpoint(GW6, 21);
    private static final FtpEndpoint V1_V6 = new FtpEndpoint(GW6, 2121);
    private static final FtpEndpoint OFF = new FtpEndpoint(GW4, 2121);
    private static final int TLS_PORT = 2200;
    private static final FtpEndpoint TLS = new FtpEndpoint(GW4, TLS_PORT);
    private static final int FORWARD_PORT = 2201;
    /** A forward listener: the client names HAProxy's port in USER; destinations.upstream-proxy-protocol applies. */
    private static final FtpEndpoint FORWARD = new FtpEndpoint(GW4, FORWARD_PORT, "anonymous@" + Topology.SERVER_V4 + ":2121");
    private static final int IMPLICIT_PORT = 990;
    /** The off listener's advertised-address: announced in its 227, reached by nobody (curl skips it). */
    private static final String ADVERTISED = "192.0.2.80";

    private Topology topology;
    private VsftpdServer server;
    private Path haproxyLog;
    private FtpGateDaemon gateway;
    private TransferChecks plain;
    private TransferChecks implicit;
    private GatewayRules rules;
    private FtpsCertificates certs;

    @BeforeAll
    void setUp() throws IOException {
        Testbed.requireTools("curl", "haproxy");
        topology = Topology.create(Topology.Kind.GATEWAY);
        try {
            for (String tool : List.of("iptables", "ip6tables")) {
                for (int port : List.of(TLS_PORT, FORWARD_PORT)) {
                    topology.exec(topology.gateway, tool, "-A", "INPUT", "-p", "tcp", "--dport", String.valueOf(port),
                            "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT").orThrow();
                }
            }
            // Behind HAProxy vsftpd sees control connections from HAProxy and data connections from
            // the gateway: pasv_promiscuous lets them differ, port_promiscuous lets a PORT name the
            // gateway (ProFTPD: AllowForeignAddress on).
            server = VsftpdServer.start(topology, topology.server, "vsftpd", "hello from vsftpd\n", 20261124L,
                    VsftpdServer.PORT, List.of("pasv_promiscuous=YES", "port_promiscuous=YES", "log_ftp_protocol=YES"));
            FtpsCertificates certs = FtpsCertificates.create(topology.workDir().resolve("tls"));
            List<String> tls = new ArrayList<>(FtpsIT.vsftpdTls(certs));
            tls.addAll(List.of("implicit_ssl=YES", "pasv_promiscuous=YES"));
            VsftpdServer implicitServer = VsftpdServer.start(topology, topology.server, "vsftpd-implicit",
                    "hello over implicit FTPS\n", 12L, IMPLICIT_PORT, tls);
            haproxyLog = topology.workDir().resolve("haproxy.log");
            topology.start(topology.server, haproxyLog, "haproxy", "-db", "-f",
                    Files.writeString(topology.workDir().resolve("haproxy.cfg"), haproxyConfig()).toString());
            await("haproxy listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> topology.exec(topology.server, "ss", "-Hltn", "sport = :2990").stdout().contains("2990"));
            this.certs = certs;
            gateway = FtpGateDaemon.start(topology, gatewayConfig(certs, ""));
            plain = new TransferChecks(topology, server);
            implicit = new TransferChecks(topology, implicitServer);
            rules = new GatewayRules(topology);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @AfterAll
    void tearDown() throws IOException {
        if (haproxyLog != null && Files.exists(haproxyLog)) {
            // Kept for the report: target/upstream-proxy-it/haproxy.log
            Path keep = Files.createDirectories(Path.of(System.getProperty("ftpgate.jar", "target/x")).getParent()
                    .resolve("upstream-proxy-it"));
            Files.copy(haproxyLog, keep.resolve("haproxy.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            if (gateway != null) {
                Files.writeString(keep.resolve("gateway.log"), gateway.log());
            }
        }
        if (topology != null) {
            topology.close();
        }
    }

    @AfterEach
    void gatewayRunsAndLeavesNoLease(org.junit.jupiter.api.TestInfo info) {
        if (gateway != null && gateway.isAlive()) {
            rules.awaitNoLeases();
        } else if (!info.getTestMethod().map(m -> m.getName().startsWith("sigterm")).orElse(false)) {
            gateway.assertAlive();
        }
    }

    private static String haproxyConfig() {
        String s4 = Topology.SERVER_V4;
        String s6 = Topology.SERVER_V6;
        return String.join("\n",
                "global",
                "  log stdout format raw local0",
                "defaults",
                "  mode tcp",
                "  log global",
                "  timeout connect 3s",
                "  timeout client 60s",
                "  timeout server 60s",
                // With accept-proxy, %ci/%cp and %fi/%fp are the addresses the PROXY header carried.
                "  log-format \"%f client=%ci port=%cp reached=%fi:%fp\"",
                "frontend fe4",
                "  bind " + s4 + ":2121 accept-proxy",
                "  default_backend vsftpd4",
                "frontend fe6",
                "  bind [" + s6 + "]:2121 accept-proxy",
                "  default_backend vsftpd6",
                "frontend fetls",
                "  bind " + s4 + ":2990 accept-proxy",
                "  default_backend implicit",
                "backend vsftpd4",
                "  server v " + s4 + ":21",
                "backend vsftpd6",
                "  server v [" + s6 + "]:21",
                "backend implicit",
                "  server v " + s4 + ":" + IMPLICIT_PORT,
                "");
    }

    private static String gatewayConfig(FtpsCertificates certs, String extra) {
        String s4 = Topology.SERVER_V4;
        String s6 = "[" + Topology.SERVER_V6 + "]";
        return String.join("\n",
                "ftpgate {",
                "  listeners {",
                "    v2  { listen = [\"" + V2_V4.authority() + "\", \"" + V2_V6.authority() + "\"], upstream = \"" + s4
                        + ":2121\", upstream-proxy-protocol = v2 }",
                "    v1  { listen = [\"" + V1_V6.authority() + "\"], upstream = \"" + s6 + ":2121\", upstream-proxy-protocol = v1 }",
                "    tls { listen = [\"" + TLS.authority() + "\"], upstream = \"" + s4 + ":2990\", upstream-proxy-protocol = v2",
                "          upstream-tls { mode = implicit, verify = ca-file, ca-file = \"" + certs.serverCa + "\" } }",
                "    off { listen = [\"" + OFF.authority() + "\"], upstream = \"" + s4 + ":21\", advertised-address = \""
                        + ADVERTISED + "\" }",
                "    fwd { mode = forward, listen = [\"" + FORWARD.authority() + "\"] }",
                "  }",
                "  destinations { allow = [\"203.0.113.0/24\"], ports = [21, 2121], upstream-proxy-protocol = v2 }",
                "  firewall.backend = iptables",
                "  data.connect-timeout = 3s",
                "  shutdown.grace-period = 2s",
                extra,
                "}",
                "");
    }

    private String haproxyLog() {
        try {
            return Files.readString(haproxyLog);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    static Stream<Arguments> routes() {
        List<Arguments> cases = new ArrayList<>();
        for (FtpEndpoint e : List.of(V2_V4, V2_V6, V1_V6)) {
            for (FtpMode mode : FtpMode.values()) {
                if (mode.usableOver(e.ipv6())) {
                    cases.add(Arguments.of(e, mode));
                }
            }
        }
        return cases.stream();
    }

    @Order(1)
    @ParameterizedTest(name = "through the PROXY-reading HAProxy via {0}: RETR and STOR in {1}")
    @MethodSource("routes")
    void transfersWorkAndHaproxyLogsTheRealClient(FtpEndpoint endpoint, FtpMode mode) {
        String frontend = endpoint.equals(V1_V6) ? "fe6" : "fe4";
        String client = endpoint.ipv6() ? Topology.CLIENT_V6 : Topology.CLIENT_V4;
        long before = haproxyLines(frontend, client, endpoint).count();
        String tag = "pp-" + endpoint.host().replace(':', '_') + "-" + endpoint.port() + "-" + mode;
        plain.retrieve(new Curl(), endpoint, mode, tag);
        plain.store(new Curl(), endpoint, mode, tag);
        await("haproxy's log line for each session").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(haproxyLines(frontend, client, endpoint).count())
                        .as("%s lines naming client %s and the address it reached, %s:\n%s", frontend, client, endpoint,
                                haproxyLog())
                        .isEqualTo(before + 2));
    }

    /** HAProxy's lines for sessions of {@code client} that reached {@code endpoint}, on {@code frontend}. */
    private Stream<String> haproxyLines(String frontend, String client, FtpEndpoint endpoint) {
        return haproxyLog().lines().filter(l -> l.matches(java.util.regex.Pattern.quote(frontend + " client=" + client
                + " port=") + "\\d+" + java.util.regex.Pattern.quote(" reached=" + endpoint.host() + ":" + endpoint.port())));
    }

    @Order(2)
    @Test
    void aForwardListenersServerGetsTheHeaderOfDestinations() {
        long before = haproxyLines("fe4", Topology.CLIENT_V4, FORWARD).count();
        plain.retrieve(new Curl(), FORWARD, FtpMode.EPSV, "pp-forward-epsv");
        plain.retrieve(new Curl(), FORWARD, FtpMode.PORT, "pp-forward-port");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(haproxyLines("fe4", Topology.CLIENT_V4, FORWARD)
                .count()).as(haproxyLog()).isEqualTo(before + 2));
    }

    @Order(2)
    @Test
    void implicitTlsTowardsTheServerStartsAfterTheHeader() {
        for (FtpMode mode : List.of(FtpMode.EPSV, FtpMode.PASV, FtpMode.EPRT)) {
            implicit.retrieve(new Curl(), TLS, mode, "pp-tls-" + mode);
        }
        implicit.store(new Curl(), TLS, FtpMode.EPSV, "pp-tls");
        assertThat(haproxyLines("fetls", Topology.CLIENT_V4, TLS).count()).as(haproxyLog()).isGreaterThanOrEqualTo(4);
        assertThat(gateway.log()).contains("server leg secured");
    }

    @Order(3)
    @Test
    void activeModeTowardsTheServerWorksToo() {
        gateway.reload(gatewayConfig(certs, "  data.active-to-passive = false"));
        gateway.awaitLog("configuration reloaded");
        for (FtpEndpoint endpoint : List.of(V2_V4, V2_V6, V1_V6)) {
            FtpMode mode = endpoint.ipv6() ? FtpMode.EPRT : FtpMode.PORT;
            String frontend = endpoint.equals(V1_V6) ? "fe6" : "fe4";
            String client = endpoint.ipv6() ? Topology.CLIENT_V6 : Topology.CLIENT_V4;
            long before = haproxyLines(frontend, client, endpoint).count();
            String tag = "pp-active-" + endpoint.host().replace(':', '_') + "-" + endpoint.port();
            plain.retrieve(new Curl(), endpoint, mode, tag);
            plain.store(new Curl(), endpoint, mode, tag);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(haproxyLines(frontend, client, endpoint).count()).as(haproxyLog()).isEqualTo(before + 2));
        }
        assertThat(server.transferLog()).as("vsftpd was asked for active data connections")
                .containsPattern("FTP command: Client \"[^\"]+\", \"(PORT|EPRT) ");
    }

    @Order(4)
    @Test
    void haproxyNeverSawTheGatewayAsTheClient() {
        assertThat(haproxyLog()).as("HAProxy's view of the clients")
                .doesNotContain("client=" + Topology.GATEWAY_SERVER_SIDE_V4)
                .doesNotContain("client=" + Topology.GATEWAY_SERVER_SIDE_V6)
                .doesNotContain("Received something which does not look like a PROXY protocol header")
                .contains("fe4 client=" + Topology.CLIENT_V4 + " ")
                .contains("fe4 client=" + Topology.CLIENT_V6 + " ")
                .contains("fe6 client=" + Topology.CLIENT_V6 + " ");
    }

    @Order(5)
    @Test
    void offSendsNoHeaderToAPlainServerAndTheListenersAdvertisedAddressIsAnnounced() {
        long before = haproxyLog().lines().count();
        int clientsBefore = server.clientAddresses().size();
        plain.retrieve(new Curl(), OFF, FtpMode.EPSV, "off-epsv");
        plain.store(new Curl(), OFF, FtpMode.PORT, "off-port");
        ExecResult pasv = Curl.ignoringPasvAddress().list(topology, OFF, FtpMode.PASV);
        assertThat(pasv.ok()).as(pasv.describe()).isTrue();
        assertThat(pasv.stderr()).as("the 227 names the listener's advertised-address")
                .contains("227 Entering Passive Mode (" + ADVERTISED.replace('.', ',') + ",");
        List<String> clients = server.clientAddresses();
        assertThat(clients.subList(clientsBefore, clients.size()))
                .as("vsftpd served the off listener's sessions from the gateway's address, directly")
                .containsOnly(Topology.GATEWAY_SERVER_SIDE_V4).hasSize(3);
        assertThat(haproxyLog().lines().count()).as("HAProxy saw none of them").isEqualTo(before);
    }

    @Order(6)
    @Test
    void sigtermLeavesNothingOfFtpgate() {
        assertThat(gateway.stop()).as(gateway.log()).isIn(0, 143);
        assertThat(rules.leftovers(100)).isEmpty();
    }
}
