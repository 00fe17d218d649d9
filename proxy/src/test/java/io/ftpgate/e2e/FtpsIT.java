package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.FtpsCertificates;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.ProftpdServer;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.ServedFiles;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FTPS through ftpgate with real peers (issue 9, "Tests (in CI)"): curl {@code --ssl-reqd}, lftp
 * ({@code ftp:ssl-force}, {@code ftp:ssl-protect-data}) and Python's ftplib ({@code FTP_TLS},
 * {@code prot_p()}) in the client namespace; in the server namespace vsftpd 3.0.3 with
 * {@code require_ssl_reuse=YES} and {@code strict_ssl_read_eof=YES} (explicit on port 21, implicit
 * on 990), ProFTPD 1.3.8 with mod_tls (reuse required: no {@code NoSessionReuseRequired}) on 2200,
 * and a lying server that truncates ({@code ftps/truncating_server.py}) on 2300. One gateway (one
 * jar start) with a listener per case. vsftpd 3.0.3 has no switch to pin a TLS version (only
 * {@code ssl_tlsv1}, which allows every TLS version), so the version is pinned on the gateway's side
 * ({@code upstream-tls.protocols}) and checked in vsftpd's {@code debug_ssl} log, which also shows
 * that every data connection resumed. After each case no lease may be left in ftpgate's chain.
 * {@code -Dftps.provider=openssl} runs it all with {@code ftpgate.tls.provider = openssl}.
 */
@Tag("netns")
@Tag("ftps")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FtpsIT {

    static final String PYTHON = "/usr/bin/python3";
    static final int IMPLICIT_PORT = 990;
    static final int PROFTPD_PORT = 2200;
    static final int TRUNCATING_PORT = 2300;
    static final int TRUNCATED_SIZE = 1024 * 1024;
    static final Pattern RESULT = Pattern.compile("^RESULT (\\w+) (ok|fail) ?(.*)$", Pattern.MULTILINE);

    /** A gateway listener under test, what it leads to, and what the server leg should negotiate. */
    record Route(String name, FtpEndpoint endpoint, boolean implicit, String protocol, String server) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final String GW4 = Topology.GATEWAY_CLIENT_SIDE_V4;
    static final String GW6 = Topology.GATEWAY_CLIENT_SIDE_V6;
    static final Route V4_TLS12 = new Route("ipv4 vsftpd TLSv1.2", new FtpEndpoint(GW4, 21), false, "TLSv1.2", "vsftpd");
    static final Route V4_TLS13 = new Route("ipv4 vsftpd TLSv1.3", new FtpEndpoint(GW4, 2121), false, "TLSv1.3", "vsftpd");
    static final Route V6_TLS12 = new Route("ipv6 vsftpd TLSv1.2", new FtpEndpoint(GW6, 2121), false, "TLSv1.2", "vsftpd");
    static final Route V6_TLS13 = new Route("ipv6 vsftpd TLSv1.3", new FtpEndpoint(GW6, 21), false, "TLSv1.3", "vsftpd");
    static final Route IMPLICIT = new Route("implicit both legs, vsftpd", new FtpEndpoint(GW4, IMPLICIT_PORT), true, null, "implicit");
    static final Route MIXED = new Route("explicit client, implicit vsftpd", new FtpEndpoint(GW4, 2122), false, null, "implicit");
    static final Route PROFTPD12 = new Route("ipv4 proftpd TLSv1.2", new FtpEndpoint(GW4, 2123), false, "TLSv1.2", "proftpd");
    static final Route PROFTPD12_V6 = new Route("ipv6 proftpd TLSv1.2", new FtpEndpoint(GW6, 2123), false, "TLSv1.2", "proftpd");
    static final Route PROFTPD13 = new Route("ipv4 proftpd TLSv1.3", new FtpEndpoint(GW4, 2127), false, "TLSv1.3", "proftpd");
    static final FtpEndpoint WRONG_CA = new FtpEndpoint(GW4, 2124);
    static final FtpEndpoint WRONG_PIN = new FtpEndpoint(GW4, 2125);
    static final FtpEndpoint TRUNCATING = new FtpEndpoint(GW4, 2126);
    static final List<Integer> EXTRA_PORTS = List.of(IMPLICIT_PORT, 2122, 2123, 2124, 2125, 2126, 2127);

    private Topology topology;
    private FtpsCertificates certs;
    private FtpsCertificates.Pem gatewayCert;
    private VsftpdServer vsftpd;
    private VsftpdServer implicitVsftpd;
    private io.ftpgate.testing.RunningFtpServer proftpd;
    private Process truncating;
    private FtpGateDaemon gateway;
    private GatewayRules rules;
    private final AtomicInteger cases = new AtomicInteger();

    @BeforeAll
    void setUp() {
        RootTools.requireRootAndTools("ip", "iptables", "ip6tables", "ss", "vsftpd", "curl", "lftp");
        if (!Files.isExecutable(Path.of(PYTHON))) {
            RootTools.unavailable("FTPS tests need " + PYTHON + " (Debian package python3)");
        }
        topology = Topology.create(Topology.Kind.GATEWAY);
        try {
            for (String tool : List.of("iptables", "ip6tables")) {
                for (int port : EXTRA_PORTS) {
                    topology.exec(topology.gateway, tool, "-A", "INPUT", "-p", "tcp", "--dport", String.valueOf(port),
                            "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT").orThrow();
                }
            }
            certs = FtpsCertificates.create(topology.workDir().resolve("tls"));
            gatewayCert = certs.gateway("gateway", "ftpgate gateway");
            vsftpd = VsftpdServer.start(topology, topology.server, "vsftpd-explicit", "hello over explicit FTPS\n", 11L,
                    VsftpdServer.PORT, vsftpdTls(false));
            implicitVsftpd = VsftpdServer.start(topology, topology.server, "vsftpd-implicit", "hello over implicit FTPS\n", 12L,
                    IMPLICIT_PORT, vsftpdTls(true));
            List<String> tls = new ArrayList<>(ProftpdServer.modTls());
            tls.addAll(List.of("TLSEngine on", "TLSRequired on", "TLSProtocol TLSv1.2 TLSv1.3",
                    "TLSRSACertificateFile " + certs.server.chain(), "TLSRSACertificateKeyFile " + certs.server.key(),
                    "TLSVerifyClient off", "TLSLog " + ProftpdServer.tlsLog(topology)));
            proftpd = ProftpdServer.start(topology, topology.server, PROFTPD_PORT, 13L, tls);
            Path truncLog = topology.workDir().resolve("truncating.log");
            truncating = topology.start(topology.server, truncLog, PYTHON, resource("ftps/truncating_server.py").toString(),
                    Topology.SERVER_V4, String.valueOf(TRUNCATING_PORT), certs.server.chain().toString(),
                    certs.server.key().toString(), String.valueOf(TRUNCATED_SIZE));
            new io.ftpgate.testing.RunningFtpServer("truncating server", TRUNCATING_PORT, topology.workDir(), truncating, List.of(truncLog))
                    .awaitListening(topology, topology.server);
            gateway = FtpGateDaemon.start(topology, gatewayConfig());
            rules = new GatewayRules(topology);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    @AfterAll
    void tearDown() throws IOException {
        if (gateway != null) {
            // Kept for the report: target/ftps-it/gateway.log
            Path keep = Files.createDirectories(Path.of(System.getProperty("ftpgate.jar", "target/x")).getParent().resolve("ftps-it"));
            Files.writeString(keep.resolve("gateway.log"), gateway.log());
            Files.writeString(keep.resolve("vsftpd.log"), vsftpd.transferLog());
            Files.writeString(keep.resolve("proftpd-tls.log"), read(ProftpdServer.tlsLog(topology)));
        }
        if (topology != null) {
            topology.close();
        }
    }

    @AfterEach
    void nothingLeftInTheFirewall() {
        if (gateway != null) {
            gateway.assertAlive();
            rules.awaitNoLeases();
        }
    }

    private List<String> vsftpdTls(boolean implicit) {
        List<String> lines = new ArrayList<>(vsftpdTls(certs));
        if (implicit) {
            lines.add("implicit_ssl=YES");
        }
        return lines;
    }

    /** vsftpd's FTPS: explicit, reuse required, strict TLS endings, each handshake logged. */
    static List<String> vsftpdTls(FtpsCertificates certs) {
        return new ArrayList<>(List.of(
                "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                "rsa_cert_file=" + certs.server.chain(), "rsa_private_key_file=" + certs.server.key(), "ssl_ciphers=HIGH",
                "require_ssl_reuse=YES", "strict_ssl_read_eof=YES", "strict_ssl_write_shutdown=YES", "ssl_request_cert=NO",
                "debug_ssl=YES", "log_ftp_protocol=YES"));
    }

    private String gatewayConfig() {
        String s4 = Topology.SERVER_V4;
        String s6 = "[" + Topology.SERVER_V6 + "]";
        return String.join("\n",
                "ftpgate {",
                "  listeners {",
                listener("v4tls12", GW4 + ":21", s4 + ":21", "explicit", "mode = explicit, protocols = [\"TLSv1.2\"]"),
                listener("v4tls13", GW4 + ":2121", s4 + ":21", "explicit", "mode = explicit, protocols = [\"TLSv1.3\"]"),
                listener("v6tls12", "[" + GW6 + "]:2121", s6 + ":21", "explicit", "mode = explicit, protocols = [\"TLSv1.2\"]"),
                listener("v6tls13", "[" + GW6 + "]:21", s6 + ":21", "explicit", "mode = explicit, protocols = [\"TLSv1.3\"]"),
                listener("implicit", GW4 + ":" + IMPLICIT_PORT, s4 + ":" + IMPLICIT_PORT, "implicit", "mode = implicit"),
                listener("mixed", GW4 + ":2122", s4 + ":" + IMPLICIT_PORT, "explicit", "mode = implicit"),
                listener("proftpd12", GW4 + ":2123", s4 + ":" + PROFTPD_PORT, "explicit", "mode = explicit, protocols = [\"TLSv1.2\"]"),
                listener("proftpd12v6", "[" + GW6 + "]:2123", s6 + ":" + PROFTPD_PORT, "explicit", "mode = explicit, protocols = [\"TLSv1.2\"]"),
                listener("proftpd13", GW4 + ":2127", s4 + ":" + PROFTPD_PORT, "explicit", "mode = explicit, protocols = [\"TLSv1.3\"]"),
                listener("wrongca", GW4 + ":2124", s4 + ":21", "explicit", null,
                        "mode = explicit, verify = ca-file, ca-file = \"" + certs.clientCa + "\""),
                listener("wrongpin", GW4 + ":2125", s4 + ":21", "explicit", null,
                        "mode = explicit, verify = fingerprint, fingerprint = \"" + "00:".repeat(31) + "00\""),
                listener("truncating", GW4 + ":2126", s4 + ":" + TRUNCATING_PORT, "explicit", "mode = explicit"),
                "  }",
                "  tls.provider = " + System.getProperty("ftps.provider", "openssl"),
                "  firewall.backend = iptables",
                "  data.connect-timeout = 3s",
                "  shutdown.grace-period = 2s",
                "}",
                "");
    }

    private String listener(String name, String listen, String upstream, String clientMode, String upstreamTls) {
        return listener(name, listen, upstream, clientMode, upstreamTls,
                null);
    }

    private String listener(String name, String listen, String upstream, String clientMode, String upstreamTls, String verify) {
        String up = upstreamTls != null
                ? upstreamTls + ", verify = ca-file, ca-file = \"" + certs.serverCa + "\""
                : verify;
        return "    " + name + " { listen = [\"" + listen + "\"], upstream = \"" + upstream + "\"\n"
                + "      tls { mode = " + clientMode + ", certificate = \"" + gatewayCert.chain() + "\", private-key = \""
                + gatewayCert.key() + "\" }\n"
                + "      upstream-tls { " + up + " } }";
    }

    // ---------------------------------------------------------------- the matrix

    static Stream<Arguments> vsftpdRoutes() {
        return Stream.of(V4_TLS12, V4_TLS13, V6_TLS12, V6_TLS13).flatMap(r -> Stream.of(FtpMode.values())
                .filter(m -> m.usableOver(r.endpoint().ipv6())).map(m -> Arguments.of(r, m)));
    }

    static Stream<Arguments> otherRoutes() {
        return Stream.of(IMPLICIT, MIXED, PROFTPD12, PROFTPD12_V6).flatMap(r -> Stream.of(FtpMode.EPSV, FtpMode.PASV, FtpMode.PORT)
                .filter(m -> m.usableOver(r.endpoint().ipv6())).map(m -> Arguments.of(r, m)));
    }

    static Stream<Arguments> allRoutes() {
        return Stream.concat(vsftpdRoutes(), otherRoutes());
    }

    @ParameterizedTest(name = "ftplib, {0}, {1}")
    @MethodSource("allRoutes")
    void ftplibSessionThroughTheGateway(Route route, FtpMode mode) {
        Session s = newSession(route);
        ExecResult r = ftplib(route.endpoint(), mode, route.implicit(), "LIST", "RETR:" + VsftpdServer.BIG + ":" + s.local("big1"),
                "STOR:" + s.upload + ":" + VsftpdServer.UPLOAD_DIR + "/" + s.name, "LIST",
                "RETR:" + VsftpdServer.BIG + ":" + s.local("big2"), "RETR:" + VsftpdServer.SMALL + ":" + s.local("small"));
        assertThat(results(r)).as(r.describe()).allMatch(line -> line.contains(" ok "), "every operation ok").hasSize(7);
        s.assertTransferred(r, "big1", "big2");
        s.assertUploaded(r);
        s.assertServerLeg(route, 6);
    }

    @ParameterizedTest(name = "curl, {0}, {1}")
    @MethodSource("allRoutes")
    void curlSessionThroughTheGateway(Route route, FtpMode mode) {
        Session s = newSession(route);
        if (!mode.passive()) {
            curlActiveModeWorksDirect(mode);
        }
        ExecResult r = curl(route, mode, List.of(
                List.of("-o", s.local("list").toString(), url(route, "")),
                List.of("-o", s.local("big1").toString(), url(route, VsftpdServer.BIG)),
                List.of("-T", s.upload.toString(), url(route, VsftpdServer.UPLOAD_DIR + "/" + s.name)),
                List.of("-o", s.local("big2").toString(), url(route, VsftpdServer.BIG))));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stderr()).as("one control connection for all four transfers").containsOnlyOnce("Trying " + route.endpoint().authority() + "...")
                .contains("Re-using existing connection");
        assertThat(read(s.local("list"))).contains(VsftpdServer.SMALL);
        s.assertTransferred(r, "big1", "big2");
        s.assertUploaded(r);
        s.assertServerLeg(route, 4);
    }

    @ParameterizedTest(name = "lftp, {0}, {1}")
    @MethodSource("allRoutes")
    void lftpSessionThroughTheGateway(Route route, FtpMode mode) {
        Assumptions.assumeTrue(mode != FtpMode.EPRT || route.endpoint().ipv6(),
                "lftp sends PORT on IPv4 and EPRT on IPv6 only; it has no switch for EPRT over IPv4");
        Session s = newSession(route);
        ExecResult r = lftp(route, mode, "ls", "get " + VsftpdServer.BIG + " -o " + s.local("big1"),
                "put " + s.upload + " -o " + VsftpdServer.UPLOAD_DIR + "/" + s.name, "get " + VsftpdServer.BIG + " -o " + s.local("big2"));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).contains(VsftpdServer.SMALL);
        s.assertTransferred(r, "big1", "big2");
        s.assertUploaded(r);
        s.assertServerLeg(route, 4);
    }

    /**
     * ProFTPD over TLS 1.3, where reuse is hardest: an upload, then more transfers in the same
     * session. ProFTPD (OpenSSL 3.0) sends no new session ticket on a data connection it only reads
     * from, and the JDK client keeps one single-use ticket per server, so unless the gateway keeps
     * a ticket in reserve the data connection after a STOR is a full handshake that mod_tls
     * refuses (425). Known to fail with ftpgate's JDK server leg (see the README, FTPS).
     */
    @ParameterizedTest(name = "ftplib, {0}, {1}")
    @MethodSource("proftpdTls13")
    void proftpdTls13ResumesAfterAnUpload(Route route, FtpMode mode) {
        Session s = newSession(route);
        ExecResult r = ftplib(route.endpoint(), mode, false, "LIST", "STOR:" + s.upload + ":" + VsftpdServer.UPLOAD_DIR + "/" + s.name,
                "LIST", "RETR:" + VsftpdServer.BIG + ":" + s.local("big1"));
        assertThat(results(r)).as(r.describe()).allMatch(line -> line.contains(" ok "), "every operation ok").hasSize(5);
        s.assertUploaded(r);
        s.assertServerLeg(route, 4);
    }

    static Stream<Arguments> proftpdTls13() {
        return Stream.of(Arguments.of(PROFTPD13, FtpMode.EPSV));
    }

    // ---------------------------------------------------------------- negative control: reuse

    /**
     * Python's ftplib never resumes the control session on its data connections: vsftpd with
     * {@code require_ssl_reuse=YES} refuses its first transfer with 522 when it connects directly
     * (from the server's own namespace), and the same session through ftpgate succeeds, because the
     * gateway's server leg resumes.
     */
    @Test
    void ftplibFailsDirectAgainstVsftpdButSucceedsThroughTheGateway() {
        ExecResult direct = topology.exec(topology.server, Duration.ofSeconds(60), PYTHON, resource("ftps/ftplib_ftps.py").toString(),
                Topology.SERVER_V4, "21", "EPSV", certs.serverCa.toString(), "0", "LIST");
        assertThat(results(direct)).as(direct.describe()).containsExactly(
                results(direct).get(0), "RESULT LIST fail reply 522 SSL connection failed: session reuse required");
        assertThat(results(direct).get(0)).startsWith("RESULT LOGIN ok");

        double before = resumedServerDataHandshakes();
        ExecResult through = ftplib(V4_TLS12.endpoint(), FtpMode.EPSV, false, "LIST", "LIST");
        assertThat(results(through)).as(through.describe()).hasSize(3).allMatch(line -> line.contains(" ok "));
        assertThat(resumedServerDataHandshakes() - before).as("ftpgate_tls_handshakes_total, resumed server-leg data connections")
                .isEqualTo(2.0);
    }

    /** ftpgate_tls_handshakes_total{leg="server",channel="data",resumed="yes",result="ok"} from its metrics endpoint. */
    private double resumedServerDataHandshakes() {
        return dataHandshakes("leg=\"server\"", "resumed=\"yes\"", "result=\"ok\"");
    }

    /** The sum of ftpgate_tls_handshakes_total{channel="data"} series whose labels include {@code labels}. */
    private double dataHandshakes(String... labels) {
        String metrics = topology.exec(topology.gateway, "curl", "-sS", "http://127.0.0.1:9121/metrics").orThrow().stdout();
        return metrics.lines().filter(l -> l.startsWith("ftpgate_tls_handshakes_total{") && l.contains("channel=\"data\""))
                .filter(l -> Stream.of(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    // ---------------------------------------------------------------- failures

    /**
     * A server-leg data connection that ends without close_notify is a truncation: the lying
     * server still says 226, the client must see a failed transfer, never success.
     */
    @Test
    void aTruncatedDownloadFailsForTheClient() {
        Session s = newSession(null);
        ExecResult c = curl(TRUNCATING, false, FtpMode.EPSV, List.of(List.of("-o", s.local("trunc").toString(), "ftp://" + TRUNCATING.authority() + "/any")));
        assertThat(c.exitCode()).as("curl must fail: %s", c.describe()).isNotZero();
        assertThat(c.stderr()).as(c.describe()).doesNotContain("< 226");
        ExecResult p = ftplib(TRUNCATING, FtpMode.EPSV, false, "RAW:any");
        System.out.printf("[ftps] truncation as ftplib sees it: %s%n", results(p));
        assertThat(results(p)).as(p.describe()).element(1).asString()
                .startsWith("RESULT RAW fail").contains("reply=426").doesNotContain("end=close_notify");
        assertThat(gateway.log()).contains("tls_truncated");
    }

    /**
     * RETR of a missing file (PROT P) gets the server's 550 at once: no handshake is started on
     * either leg (a started one would wait for its timeout), and the next transfers of the same
     * session still work and still resume on the server leg.
     */
    @Test
    void aFailedTransferCommandStartsNoHandshakeAndLeavesTheSessionUsable() {
        double handshakes = dataHandshakes();
        ExecResult refused = ftplib(V4_TLS13.endpoint(), FtpMode.EPSV, false, "MISSING:nosuch.bin", "MISSING:nosuch2.bin");
        assertThat(results(refused)).as(refused.describe()).hasSize(3).allMatch(line -> line.contains(" ok "));
        assertThat(dataHandshakes()).as("TLS handshakes on data connections, either leg, for refused RETRs").isEqualTo(handshakes);
        Session s = newSession(V4_TLS13);
        long start = System.nanoTime();
        ExecResult r = ftplib(V4_TLS13.endpoint(), FtpMode.EPSV, false, "MISSING:nosuch.bin", "RETR:" + VsftpdServer.BIG + ":" + s.local("big1"),
                "MISSING:nosuch.bin", "MISSING:nosuch2.bin", "RETR:" + VsftpdServer.BIG + ":" + s.local("big2"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        List<String> results = results(r);
        assertThat(results).as(r.describe()).hasSize(6).allMatch(line -> line.contains(" ok "));
        assertThat(results.get(1)).contains("550");
        assertThat(millis).as("no handshake timeout waited for").isLessThan(8000);
        s.assertTransferred(r, "big1", "big2");
        s.assertServerLeg(V4_TLS13, 2);
        ExecResult c = curl(V4_TLS12, FtpMode.EPSV, List.of(List.of("-o", s.local("x").toString(), url(V4_TLS12, "nosuch.bin")),
                List.of("-o", s.local("small").toString(), url(V4_TLS12, VsftpdServer.SMALL))));
        assertThat(c.stderr()).as(c.describe()).contains("< 550").contains("Re-using existing connection");
        assertThat(read(s.local("small"))).isEqualTo("hello over explicit FTPS\n");
    }

    /** An upstream certificate the gateway cannot verify: the client gets 421 with the reason. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("untrustedUpstreams")
    void anUntrustedServerCertificateGivesTheClient421(String name, FtpEndpoint endpoint) {
        ExecResult r = topology.exec(topology.client, "curl", "-sS", "-v", "--ssl-reqd", "--cacert", certs.clientCa.toString(),
                "--max-time", "20", "ftp://" + endpoint.authority() + "/");
        assertThat(r.exitCode()).as(r.describe()).isNotZero();
        Matcher m = Pattern.compile("< 421 .*").matcher(r.stderr());
        assertThat(m.find()).as("a 421 in %s", r.describe()).isTrue();
        System.out.printf("[ftps] %s: %s%n", name, m.group());
        assertThat(m.group().toLowerCase()).containsAnyOf("certificat", "fingerprint", "trust", "verif");
    }

    static Stream<Arguments> untrustedUpstreams() {
        return Stream.of(Arguments.of("ca-file with a CA that did not sign the server's certificate", WRONG_CA),
                Arguments.of("a wrong fingerprint", WRONG_PIN));
    }

    // ---------------------------------------------------------------- reload

    /**
     * SIGHUP with a renewed certificate (the same files, replaced) while a download is running:
     * the running transfer completes, and a new session sees the new certificate.
     */
    @Test
    void reloadDuringATransferRenewsTheCertificateForNewSessions() throws Exception {
        Session s = newSession(V4_TLS12);
        Path log = topology.workDir().resolve("slow-curl.log");
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "-v", "--ssl-reqd", "--cacert", certs.clientCa.toString(),
                "--max-time", "60", "--limit-rate", "300k", "--ftp-pasv", "-o", s.local("slow").toString(), url(V4_TLS12, VsftpdServer.BIG)));
        Process slow = topology.start(topology.client, log, argv.toArray(String[]::new));
        try {
            Awaitility().until(() -> Files.exists(s.local("slow")) && Files.size(s.local("slow")) > 256 * 1024);
            FtpsCertificates.Pem renewed = certs.gateway("gateway", "ftpgate gateway renewed");
            assertThat(slow.isAlive()).as("the download runs when the reload starts").isTrue();
            gateway.reload(gatewayConfig());
            gateway.awaitLog("configuration reloaded");
            ExecResult fresh = curl(V4_TLS12, FtpMode.EPSV, List.of(List.of("-o", s.local("small").toString(), url(V4_TLS12, VsftpdServer.SMALL))));
            assertThat(fresh.exitCode()).as(fresh.describe()).isZero();
            assertThat(fresh.stderr()).contains("subject: CN=ftpgate gateway renewed");
            assertThat(renewed.subject()).contains("renewed");
            assertThat(slow.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(slow.exitValue()).as(read(log)).isZero();
            assertThat(read(log)).contains("subject: CN=ftpgate gateway").doesNotContain("renewed");
            assertThat(sha256(s.local("slow"))).isEqualTo(sha256(vsftpd.root().resolve(VsftpdServer.BIG)));
        } finally {
            slow.destroy();
        }
    }

    private static org.awaitility.core.ConditionFactory Awaitility() {
        return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100));
    }

    // ---------------------------------------------------------------- clients

    /**
     * curl 7.88 cannot do active mode over TLS on its own side ("sa_addr inet_ntop() failed with
     * errno 97" after accepting the data connection): checked directly against vsftpd from the
     * server's namespace; when that fails, the gateway cell is skipped with curl's message.
     */
    private void curlActiveModeWorksDirect(FtpMode mode) {
        ExecResult direct = curlActiveDirect.computeIfAbsent(mode, m -> topology.exec(topology.server, "curl", "-sS", "-v",
                "--ssl-reqd", "--cacert", certs.serverCa.toString(), "--max-time", "5", "-P", Topology.SERVER_V4,
                m == FtpMode.PORT ? "--disable-eprt" : "--eprt", "ftp://" + Topology.SERVER_V4 + ":21/" + VsftpdServer.SMALL));
        Matcher error = Pattern.compile("curl: \\(\\d+\\).*").matcher(direct.stderr());
        Assumptions.assumeTrue(direct.ok(), () -> "curl's own limitation, direct against vsftpd without ftpgate: "
                + (error.find() ? error.group() : direct.describe()));
    }

    /** curl's active mode over TLS straight to vsftpd, tried once per mode. */
    private final java.util.Map<FtpMode, ExecResult> curlActiveDirect = new java.util.EnumMap<>(FtpMode.class);

    private ExecResult curl(Route route, FtpMode mode, List<List<String>> transfers) {
        return curl(route.endpoint(), route.implicit(), mode, transfers);
    }

    /** One curl run, transfers joined with {@code --next}: curl keeps the control connection for all. */
    private ExecResult curl(FtpEndpoint endpoint, boolean implicit, FtpMode mode, List<List<String>> transfers) {
        List<String> argv = new ArrayList<>(List.of("curl"));
        for (int i = 0; i < transfers.size(); i++) {
            if (i > 0) {
                argv.add("--next");
            }
            argv.addAll(List.of("-sS", "-v", "--ssl-reqd", "--cacert", certs.clientCa.toString(), "--max-time", "30",
                    "--connect-timeout", "5"));
            argv.addAll(switch (mode) {
                case PASV -> List.of("--ftp-pasv", "--disable-epsv", "--no-ftp-skip-pasv-ip");
                case EPSV -> List.of("--ftp-pasv");
                case PORT -> List.of("-P", endpoint.ipv6() ? "-" : Topology.CLIENT_V4, "--disable-eprt");
                case EPRT -> List.of("-P", endpoint.ipv6() ? "-" : Topology.CLIENT_V4);
            });
            argv.addAll(transfers.get(i));
        }
        return topology.exec(topology.client, Duration.ofSeconds(90), argv.toArray(String[]::new));
    }

    private static String url(Route route, String path) {
        return (route.implicit() ? "ftps://" : "ftp://") + route.endpoint().authority() + "/" + path;
    }

    private ExecResult lftp(Route route, FtpMode mode, String... commands) {
        FtpEndpoint e = route.endpoint();
        String open = route.implicit()
                ? "open -u anonymous,lftp@ ftps://" + e.authority()
                : "open -u anonymous,lftp@ -p " + e.port() + " " + e.host();
        String script = String.join("; ",
                "set cmd:fail-exit yes", "set net:timeout 10", "set net:max-retries 1", "set net:reconnect-interval-base 1",
                "set ftp:ssl-force yes", "set ftp:ssl-protect-data yes", "set ftp:ssl-protect-list yes",
                "set ssl:ca-file " + certs.clientCa, "set xfer:clobber yes",
                "set ftp:passive-mode " + (mode.passive() ? "on" : "off"),
                "set ftp:prefer-epsv " + (mode == FtpMode.EPSV ? "yes" : "no"),
                "debug -o /dev/stderr 3", open, String.join("; ", commands));
        return topology.exec(topology.client, Duration.ofSeconds(90), "lftp", "-c", script);
    }

    private ExecResult ftplib(FtpEndpoint endpoint, FtpMode mode, boolean implicit, String... ops) {
        List<String> argv = new ArrayList<>(List.of(PYTHON, resource("ftps/ftplib_ftps.py").toString(), endpoint.host(),
                String.valueOf(endpoint.port()), mode.name(), certs.clientCa.toString(), implicit ? "1" : "0"));
        argv.addAll(List.of(ops));
        return topology.exec(topology.client, Duration.ofSeconds(90), argv.toArray(String[]::new));
    }

    static List<String> results(ExecResult r) {
        return RESULT.matcher(r.stdout()).results().map(m -> m.group()).toList();
    }

    // ---------------------------------------------------------------- per case

    private Session newSession(Route route) {
        return new Session(route);
    }

    /** One client session's files and the server logs as they were before it. */
    final class Session {
        final String name;
        final Path dir;
        final Path upload;
        final String vsftpdBefore = vsftpd.transferLog();
        final String implicitBefore = implicitVsftpd.transferLog();
        final String proftpdBefore = read(ProftpdServer.tlsLog(topology));
        final Route route;

        Session(Route route) {
            this.route = route;
            this.name = "case" + cases.incrementAndGet() + ".bin";
            try {
                dir = Files.createDirectories(topology.workDir().resolve("clients").resolve(name));
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            upload = ServedFiles.write(dir.resolve("upload.bin"), 1024 * 1024 + 17, cases.get());
        }

        Path local(String file) {
            return dir.resolve(file);
        }

        private Path serverRoot() {
            return switch (route.server()) {
                case "vsftpd" -> vsftpd.root();
                case "implicit" -> implicitVsftpd.root();
                default -> proftpd.root();
            };
        }

        /** The downloads equal the server's file. */
        void assertTransferred(ExecResult r, String... downloads) {
            String big = sha256(serverRoot().resolve(VsftpdServer.BIG));
            for (String d : downloads) {
                assertThat(sha256(local(d))).as("%s: %s", d, r.describe()).isEqualTo(big);
            }
        }

        /** The upload arrived whole. */
        void assertUploaded(ExecResult r) {
            Path stored = serverRoot().resolve(VsftpdServer.UPLOAD_DIR).resolve(name);
            assertThat(sha256(stored)).as("upload %s: %s", name, r.describe()).isEqualTo(sha256(upload));
        }

        /**
         * The server's view of this session: every data connection of the server leg resumed the
         * control connection's TLS session (vsftpd {@code debug_ssl}: ", reused"; mod_tls: no
         * "did not reuse"), with the pinned protocol version, and strict_ssl_read_eof saw no
         * unclean end.
         */
        void assertServerLeg(Route route, int dataConnections) {
            switch (route.server()) {
                case "vsftpd", "implicit" -> {
                    VsftpdServer server = route.server().equals("vsftpd") ? vsftpd : implicitVsftpd;
                    String delta = server.transferLog().substring((route.server().equals("vsftpd") ? vsftpdBefore : implicitBefore).length());
                    assertThat(delta).as(delta).doesNotContain("session reuse required").doesNotContain("Failure reading network stream")
                            .doesNotContain("Failure writing network stream");
                    assertThat(count(delta, ", reused")).as("data connections that resumed, in %s", delta)
                            .isGreaterThanOrEqualTo(dataConnections);
                    assertThat(count(delta, ", not reused")).as("full handshakes (the control connection), in %s", delta).isEqualTo(1);
                    if (route.protocol() != null) {
                        assertThat(Pattern.compile("SSL version: (\\S+),").matcher(delta).results().map(m -> m.group(1)).distinct().toList())
                                .as(delta).containsExactly(route.protocol());
                    }
                }
                case "proftpd" -> {
                    String delta = read(ProftpdServer.tlsLog(topology)).substring(proftpdBefore.length());
                    assertThat(delta).as(delta).doesNotContain("did not reuse").doesNotContain("rejecting data connection");
                    assertThat(count(delta, "client reused")).as("data connections that resumed, in %s", delta)
                            .isGreaterThanOrEqualTo(dataConnections);
                    if (route.protocol() != null) {
                        assertThat(delta).contains(route.protocol());
                    }
                }
                default -> throw new IllegalArgumentException(route.server());
            }
        }
    }

    static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (Exception e) {
            throw new AssertionError("cannot read " + file + ": " + e, e);
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    static Path resource(String name) {
        try {
            return Path.of(FtpsIT.class.getResource("/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + name + " missing", e);
        }
    }

    /**
     * Transparent mode: clients connect to the FTP server's own address, the routing gateway
     * diverts the connection to ftpgate, and the client sees the gateway's certificate (it must
     * name the server's address, and clients must trust its CA), never the server's.
     */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Transparent {
        private Topology routed;
        private FtpGateDaemon daemon;

        @BeforeAll
        void setUp() {
            routed = Topology.create(Topology.Kind.ROUTING_GATEWAY);
            try {
                FtpsCertificates tls = FtpsCertificates.create(routed.workDir().resolve("tls"));
                FtpsCertificates.Pem cert = tls.gateway("gateway", "ftpgate transparent", Topology.SERVER_V4, Topology.SERVER_V6);
                VsftpdServer.start(routed, routed.server, "vsftpd", "hello over transparent FTPS\n", 21L, VsftpdServer.PORT,
                        vsftpdTls(tls));
                daemon = FtpGateDaemon.start(routed, String.join("\n",
                        "ftpgate {",
                        "  listeners.tp { mode = transparent, listen = [\"[::]:2121\"]",
                        "    tls { mode = explicit, certificate = \"" + cert.chain() + "\", private-key = \"" + cert.key() + "\" } }",
                        "  destinations.allow = [\"" + Topology.SERVER_V4 + "/32\", \"" + Topology.SERVER_V6 + "/128\"]",
                        "  destinations.upstream-tls { mode = explicit, verify = ca-file, ca-file = \"" + tls.serverCa + "\" }",
                        "  firewall.backend = iptables",
                        "  data.connect-timeout = 3s",
                        "  shutdown.grace-period = 2s",
                        "}", ""));
                transparentCa = tls.clientCa;
            } catch (RuntimeException | Error e) {
                routed.close();
                throw e;
            }
        }

        private Path transparentCa;

        @AfterAll
        void tearDown() {
            if (routed != null) {
                routed.close();
            }
        }

        @ParameterizedTest(name = "curl to the server's address {0}")
        @MethodSource("io.ftpgate.e2e.FtpsIT#serverAddresses")
        void theClientSeesTheGatewaysCertificate(String server) {
            String host = server.contains(":") ? "[" + server + "]" : server;
            Path out = routed.workDir().resolve("small-" + server.replace(':', '-'));
            ExecResult r = routed.exec(routed.client, Duration.ofSeconds(60), "curl", "-sS", "-v", "--ssl-reqd", "--cacert",
                    transparentCa.toString(), "--max-time", "30", "--ftp-pasv", "-o", out.toString(),
                    "ftp://" + host + "/" + VsftpdServer.SMALL);
            assertThat(r.exitCode()).as("%s\ngateway log:\n%s", r.describe(), daemon.log()).isZero();
            assertThat(r.stderr()).contains("subject: CN=ftpgate transparent").contains("issuer: CN=ftpgate test client-side CA")
                    .doesNotContain("CN=ftp server");
            assertThat(read(out)).isEqualTo("hello over transparent FTPS\n");
            new GatewayRules(routed).awaitNoLeasesAnywhere();
        }
    }

    static Stream<String> serverAddresses() {
        return Stream.of(Topology.SERVER_V4, Topology.SERVER_V6);
    }
}
