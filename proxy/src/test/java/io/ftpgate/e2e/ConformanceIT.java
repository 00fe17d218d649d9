package io.ftpgate.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.FtpServerUnderTest;
import io.ftpgate.testing.ProftpdServer;
import io.ftpgate.testing.PureFtpdServer;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.ServedFiles;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import io.ftpgate.testing.conformance.ConformanceClient;
import io.ftpgate.testing.conformance.CurlClient;
import io.ftpgate.testing.conformance.FtplibClient;
import io.ftpgate.testing.conformance.LftpClient;
import io.ftpgate.testing.conformance.Operation;
import io.ftpgate.testing.conformance.Outcome;
import io.ftpgate.testing.conformance.SessionFiles;
import io.ftpgate.testing.conformance.WgetClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance matrix: three real servers (vsftpd, Pure-FTPd, ProFTPD) × four real clients
 * (curl, lftp, Python's ftplib, wget) × each data connection mode the client can use × IPv4 and
 * IPv6 × five operations (LIST, RETR, STOR, REST, ABOR), each cell one test case named
 * {@code server / client / mode / family / operation}, so the test report is the matrix (the
 * README's section "Conformance matrix" shows it). Cells a client cannot do are skipped with the
 * reason. The same cells run {@link #direct direct} (the middle namespace routes, no ftpgate) as the
 * control experiment: a cell failing there is a limit of the peers, not of the gateway.
 *
 * <p>One topology per route, all three servers in its server namespace for the whole class, one
 * ftpgate per server (restarted when the server changes), and one client session per server,
 * client, mode and family (a client batches what it can; the first cell of a session runs it).
 */
@Tag("netns")
@Tag("conformance")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConformanceIT {

    enum Family { IPv4, IPv6 }

    enum Route { GATEWAY, DIRECT }

    record Cell(String server, ConformanceClient client, FtpMode mode, Family family, Operation op) {
        @Override
        public String toString() {
            return String.join(" / ", server, client.name(), mode.name(), family.name(), op.name());
        }
    }

    record SessionKey(Route route, String server, String client, FtpMode mode, Family family) {
    }

    record Session(SessionFiles files, Map<Operation, Outcome> outcomes, String gatewayLog) {
    }

    static final List<String> SERVERS = List.of("vsftpd", "pure-ftpd", "proftpd");
    static final List<ConformanceClient> CLIENTS = List.of(new CurlClient(), new LftpClient(), new FtplibClient(), new WgetClient());
    /**
     * Cells that fail without ftpgate too (the {@link #direct} control): limits of the peers, not
     * of the gateway, skipped on both routes with the reason; keyed {@code server / client / operation}.
     */
    static final Map<String, String> PEER_LIMITS = Map.of(
            "pure-ftpd / ftplib / ABOR", "Pure-FTPd answers the aborted RETR with a final '150 ... seconds (measured here)' line,"
                    + " which ftplib's abort() rejects (error_proto); its replies to ABOR and NOOP then come one command late",
            "proftpd / ftplib / ABOR", "ftplib sends 'ABOR CRLF' as urgent data (MSG_OOB), so the LF is the TCP urgent byte and"
                    + " leaves the byte stream; ProFTPD answers the RETR with 426 and waits for the end of the ABOR line forever",
            "pure-ftpd / lftp / ABOR", "in passive modes Pure-FTPd's '426 ABORT' + '226-Transfer aborted' make lftp report"
                    + " '426 reply missed' and lose step (its next PASV goes unanswered, it reconnects), depending on timing");
    private static final int PURE_FTPD_PORT = 2100;
    private static final int PROFTPD_PORT = 2200;

    private final Map<Route, Topology> topologies = new HashMap<>();
    private final Map<Route, Map<String, FtpServerUnderTest>> servers = new HashMap<>();
    private final Map<SessionKey, Session> sessions = new HashMap<>();
    private FtpGateDaemon gateway;
    private String gatewayServes;

    @BeforeAll
    void setUp() {
        Testbed.requireTools("curl", "lftp", "wget", "unshare", "mount", "getent", "apt-get", "dpkg-deb", "ldd");
        if (!Files.isExecutable(Path.of(FtplibClient.PYTHON))) {
            RootTools.unavailable("the ftplib client needs Debian's " + FtplibClient.PYTHON);
        }
        for (Route route : Route.values()) {
            Topology topology = Topology.create(route == Route.GATEWAY ? Topology.Kind.GATEWAY : Topology.Kind.ROUTER);
            topologies.put(route, topology);
            Map<String, FtpServerUnderTest> started = new LinkedHashMap<>();
            started.put("vsftpd", VsftpdServer.start(topology));
            started.put("pure-ftpd", PureFtpdServer.start(topology, topology.server, PURE_FTPD_PORT, 2L));
            started.put("proftpd", ProftpdServer.start(topology, topology.server, PROFTPD_PORT, 3L));
            started.values().forEach(s -> ServedFiles.write(s.root().resolve(SessionFiles.ABOR_REMOTE), SessionFiles.ABOR_SIZE, 10L));
            servers.put(route, started);
        }
    }

    @AfterAll
    void tearDown() {
        topologies.values().forEach(Topology::close);
    }

    /** Every cell, grouped by server (one ftpgate each), then client, family and mode (one session each). */
    static Stream<Cell> cells() {
        // -Dconformance.cells=REGEX runs only the cells whose name matches (e.g. 'ABOR$').
        java.util.regex.Pattern only = java.util.regex.Pattern.compile(System.getProperty("conformance.cells", ""));
        List<Cell> cells = new ArrayList<>();
        for (String server : SERVERS) {
            for (ConformanceClient client : CLIENTS) {
                for (Family family : Family.values()) {
                    for (FtpMode mode : FtpMode.values()) {
                        if (!mode.usableOver(family == Family.IPv6)) {
                            continue;
                        }
                        for (Operation op : Operation.values()) {
                            Cell cell = new Cell(server, client, mode, family, op);
                            if (only.matcher(cell.toString()).find()) {
                                cells.add(cell);
                            }
                        }
                    }
                }
            }
        }
        return cells.stream();
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cells")
    void throughTheGateway(Cell cell) {
        check(Route.GATEWAY, cell);
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("cells")
    void direct(Cell cell) {
        check(Route.DIRECT, cell);
    }

    private void check(Route route, Cell cell) {
        String limit = PEER_LIMITS.get(String.join(" / ", cell.server(), cell.client().name(), cell.op().name()));
        Assumptions.assumeTrue(limit == null, () -> "peer limitation (fails without ftpgate too): " + limit);
        Optional<String> cannot = cell.client().cannot(cell.op());
        Assumptions.assumeTrue(cannot.isEmpty(), () -> "not applicable: " + cannot.orElse(""));
        boolean ipv6 = cell.family() == Family.IPv6;
        Assumptions.assumeTrue(cell.client().supports(cell.mode(), ipv6),
                () -> "not applicable: " + cell.client().name() + " cannot be made to use " + cell.mode() + " over " + cell.family());
        FtpServerUnderTest server = servers.get(route).get(cell.server());
        Session session = sessions.computeIfAbsent(
                new SessionKey(route, cell.server(), cell.client().name(), cell.mode(), cell.family()),
                key -> runSession(route, server, cell));
        Outcome outcome = session.outcomes().get(cell.op());
        SessionFiles files = session.files();
        List<String> problems = new ArrayList<>();
        if (!outcome.ok()) {
            problems.add("the client reported a failure");
        }
        switch (cell.op()) {
            case LIST -> {
                String listing = read(files.listLocal());
                for (String name : List.of(VsftpdServer.SMALL, VsftpdServer.BIG, VsftpdServer.UPLOAD_DIR)) {
                    if (!listing.contains(name)) {
                        problems.add("the listing lacks " + name + ": " + listing);
                    }
                }
            }
            case RETR -> sameContent(problems, "downloaded file", files.retrLocal(), server.root().resolve(VsftpdServer.BIG));
            case STOR -> sameContent(problems, "uploaded file on the server's disk",
                    server.root().resolve(files.upload()), files.storSource());
            case REST -> {
                sameContent(problems, "resumed download", files.restLocal(), server.root().resolve(VsftpdServer.BIG));
                if (!outcome.transcript().contains("REST " + SessionFiles.REST_OFFSET)) {
                    problems.add("the client did not send REST " + SessionFiles.REST_OFFSET);
                }
            }
            case ABOR -> sameContent(problems, "file fetched after the abort", files.againLocal(), server.root().resolve(VsftpdServer.SMALL));
        }
        if (route == Route.GATEWAY && !gateway.isAlive()) {
            problems.add("ftpgate exited");
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(route + " " + cell + ": " + String.join("; ", problems)
                    + "\n--- client\n" + outcome.transcript()
                    + (route == Route.GATEWAY ? "\n--- ftpgate log during the session\n" + session.gatewayLog() : "")
                    + "\n--- server log (tail)\n" + tail(server.log(), 30));
        }
    }

    private Session runSession(Route route, FtpServerUnderTest server, Cell cell) {
        Topology topology = topologies.get(route);
        boolean ipv6 = cell.family() == Family.IPv6;
        FtpEndpoint endpoint;
        if (route == Route.GATEWAY) {
            gatewayFor(server);
            endpoint = ipv6 ? FtpGateDaemon.V6 : FtpGateDaemon.V4;
        } else {
            endpoint = new FtpEndpoint(ipv6 ? Topology.SERVER_V6 : Topology.SERVER_V4, server.port());
        }
        String tag = String.join("-", route.name().toLowerCase(), server.name(), cell.client().name(), cell.mode().name(), cell.family().name());
        SessionFiles files = SessionFiles.prepare(topology.workDir().resolve("client-files").resolve(tag), server.root(),
                VsftpdServer.UPLOAD_DIR + "/" + tag + ".bin");
        List<Operation> ops = Stream.of(Operation.values()).filter(op -> cell.client().cannot(op).isEmpty()).toList();
        int logStart = route == Route.GATEWAY ? gateway.log().length() : 0;
        Map<Operation, Outcome> outcomes = cell.client().run(topology, endpoint, cell.mode(), files, ops);
        String gatewayLog = route == Route.GATEWAY ? gateway.log().substring(logStart) : "";
        return new Session(files, outcomes, gatewayLog);
    }

    /** ftpgate with one listener per family on port 21, both to {@code server}; restarted when the server changes. */
    private void gatewayFor(FtpServerUnderTest server) {
        if (server.name().equals(gatewayServes) && gateway.isAlive()) {
            return;
        }
        if (gateway != null && gateway.isAlive()) {
            gateway.stop();
        }
        Topology topology = topologies.get(Route.GATEWAY);
        gateway = FtpGateDaemon.start(topology, String.join("\n",
                "ftpgate {",
                "  listeners {",
                "    v4 { listen = [\"" + FtpGateDaemon.V4.authority() + "\"], upstream = \"" + Topology.SERVER_V4 + ":" + server.port() + "\" }",
                "    v6 { listen = [\"" + FtpGateDaemon.V6.authority() + "\"], upstream = \"[" + Topology.SERVER_V6 + "]:" + server.port() + "\" }",
                "  }",
                "  firewall.backend = iptables",
                "  data.connect-timeout = 3s",
                "  shutdown.grace-period = 2s",
                "}",
                ""));
        gatewayServes = server.name();
    }

    private static void sameContent(List<String> problems, String what, Path actual, Path expected) {
        if (!Files.isRegularFile(actual)) {
            problems.add(what + " missing: " + actual);
        } else if (!TransferChecks.sha256(actual).equals(TransferChecks.sha256(expected))) {
            problems.add(what + " differs from " + expected.getFileName() + " (sha256, " + size(actual) + " vs " + size(expected) + " bytes)");
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static String read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file) : "(no " + file.getFileName() + ")";
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
