package io.ftpgate.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.Config;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The monitoring bundle against the real thing: {@code ftpgate.jar --demo} carries curl sessions
 * (EPSV, PASV, EPRT, PORT, upload, a refused bounce), a real Prometheus scrapes it every second
 * with the alerting rules loaded, and every query of the dashboard and of the rules is put to
 * Prometheus' HTTP API. All on loopback; both processes and the temp folder go away at the end.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusScrapeIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);
    private static final String JOB = "ftpgate";
    /** Panels that may rightly be empty on a fresh gateway: no garbage collection may have happened yet. */
    private static final Set<String> MAY_BE_EMPTY = Set.of("GC pause");

    private final List<Process> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private Path tmp;
    private Path grafana;
    private int ftpPort;
    private String metricsAddress;
    private PrometheusApi prometheus;
    private int sessionsRun;

    @BeforeAll
    void startGatewayAndPrometheus() throws Exception {
        RootTools.requireRootAndTools("promtool", "prometheus", "curl");
        grafana = ToolRun.grafanaDir();
        tmp = Files.createTempDirectory("ftpgate-monitoring-");
        ftpPort = EmbeddedFtpServer.freePort();
        metricsAddress = "127.0.0.1:" + EmbeddedFtpServer.freePort();
        Path conf = Files.writeString(tmp.resolve("ftpgate.conf"), "ftpgate.metrics.listen = \"" + metricsAddress + "\"\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = System.getProperty("ftpgate.jar");
        assertThat(jar).as("system property ftpgate.jar (set by failsafe)").isNotNull();
        // The demo's sample files go to java.io.tmpdir: ours, so that they are removed with it.
        start("ftpgate", java, "-Xmx128m", "-Djava.io.tmpdir=" + tmp, "-jar", jar,
                "--demo", "--config", conf.toString(), "--listen", "127.0.0.1:" + ftpPort);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> scrape().contains("ftpgate_build_info"));

        String promAddress = "127.0.0.1:" + EmbeddedFtpServer.freePort();
        Path promConfig = Files.writeString(tmp.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - %s
                scrape_configs:
                  - job_name: %s
                    static_configs:
                      - targets: ['%s']
                """.formatted(grafana.resolve("ftpgate-alerts.yml"), JOB, metricsAddress));
        start("prometheus", "prometheus", "--config.file=" + promConfig, "--storage.tsdb.path=" + tmp.resolve("tsdb"),
                "--web.listen-address=" + promAddress, "--log.level=warn");
        prometheus = new PrometheusApi(promAddress);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(prometheus::ready);

        sessionsFrom("127.0.0.1");
        awaitScrapedSessions();
    }

    @AfterAll
    void stopAll() throws Exception {
        for (Process p : processes) {
            p.destroy(); // SIGTERM: ftpgate drains and stops, Prometheus closes its TSDB
        }
        for (Process p : processes) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (tmp != null) {
            try (Stream<Path> files = Files.walk(tmp)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void exposedMetricsPassPromtoolLint() throws Exception {
        ToolRun lint = ToolRun.runWithInput(TOOL_TIMEOUT, tmp, scrape(), "promtool", "check", "metrics");
        List<String> complaints = lint.output().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        System.out.println("promtool check metrics on ftpgate's exposition:\n" + String.join("\n", complaints));
        assertThat(complaints).as("%s", lint).isEmpty();
    }

    @Test
    void everyDashboardQueryParsesAndThePanelsShowTheSessions() throws Exception {
        Config dashboard = DashboardQueries.dashboard(grafana.resolve("ftpgate-dashboard.json"));
        // As Grafana sends a single selected value: regex-escaped.
        String instance = metricsAddress.replace(".", "\\\\.");
        List<String> problems = new ArrayList<>();
        for (DashboardQueries.Query q : DashboardQueries.concrete(dashboard, JOB, instance, "1m")) {
            PrometheusApi.Answer a = prometheus.query(q.expr());
            if (!a.ok()) {
                problems.add(q + " -> " + a.status() + ": " + a.error());
            } else if (a.series().isEmpty() && !MAY_BE_EMPTY.contains(q.panel())) {
                problems.add(q + " -> no data");
            }
        }
        assertThat(problems).as("dashboard queries that fail or show nothing").isEmpty();

        List<DashboardQueries.Query> queries = DashboardQueries.concrete(dashboard, JOB, instance, "1m");
        assertThat(labels(queries, "Transfers/s by kind and outcome", "kind")).contains("download", "upload", "listing");
        assertThat(labels(queries, "Data connections/s by mode and outcome", "mode")).contains("epsv", "pasv", "eprt", "port");
        assertThat(labels(queries, "Refusals/s by reason", "reason")).contains("bounce");
        assertThat(labels(queries, "Relayed bytes/s by direction", "direction")).contains("upload", "download");
        assertThat(labels(queries, "Logins/s by outcome", "outcome")).contains("success");
        assertThat(labels(queries, "TLS handshakes/s by leg, channel, resumption and result", "channel"))
                .contains("control", "data");
        assertThat(labels(queries, "TLS handshake latency", "leg")).contains("client");
        assertThat(labels(queries, "Certificate expiry (days)", "listener")).isNotEmpty();
    }

    @Test
    void everyAlertRuleIsLoadedHealthyAndQuietOnAHealthyGateway() throws Exception {
        long written = Files.readAllLines(grafana.resolve("ftpgate-alerts.yml")).stream()
                .filter(l -> l.strip().startsWith("- alert:")).count();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(prometheus.rules()).hasSize((int) written)
                        .allSatisfy(r -> assertThat(r.getString("health")).as("%s: %s", r.getString("name"),
                                r.hasPath("lastError") ? r.getString("lastError") : "").isEqualTo("ok")));
        for (Config rule : prometheus.rules()) {
            PrometheusApi.Answer a = prometheus.query(rule.getString("query"));
            assertThat(a.ok()).as("%s: %s -> %s", rule.getString("name"), rule.getString("query"), a.error()).isTrue();
        }
        assertThat(prometheus.activeAlerts()).as("pending or firing alerts on a healthy gateway").isEmpty();
    }

    @Test
    void seriesDoNotGrowWithClientAddresses() throws Exception {
        String ftpgateSeries = "count({__name__=~\"ftpgate_.*\", job=\"" + JOB + "\"})";
        double before = prometheus.value(ftpgateSeries);
        String textBefore = scrape();
        long exposedBefore = ftpgateLines(textBefore);
        for (String client : List.of("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")) {
            sessionsFrom(client);
        }
        awaitScrapedSessions();
        String text = scrape();
        System.out.printf("ftpgate_* series: %.0f in Prometheus, %d on /metrics after 127.0.0.1; %.0f and %d after .2 to .5%n",
                before, exposedBefore, prometheus.value(ftpgateSeries), ftpgateLines(text));
        List<String> added = newSeries(textBefore, text);
        System.out.println("ftpgate_* series new on /metrics: " + added);
        // A series of the sessions before may still appear (a transfer of an earlier test that
        // ended late: data_relays_total{relay="copy",reason="legs"} once), but none may name a client.
        assertThat(added).as("new ftpgate_* series").noneMatch(k -> k.matches(".*\\d+\\.\\d+\\.\\d+\\.\\d+.*"))
                .hasSizeLessThanOrEqualTo(2);
        assertThat(ftpgateLines(text)).as("ftpgate_* lines on /metrics").isEqualTo(exposedBefore + added.size());
        assertThat(prometheus.value(ftpgateSeries)).as("ftpgate_* series in Prometheus after sessions from 4 more addresses")
                .isEqualTo((double) ftpgateLines(text));
        assertThat(text).doesNotContain("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5");
    }

    /** The same mix from one client address: listings (EPSV, PASV), downloads (EPRT, PORT), an upload, a bounce. */
    private void sessionsFrom(String client) throws Exception {
        Path upload = Files.writeString(tmp.resolve("upload-" + client + ".txt"), "from " + client + "\n");
        String url = "ftp://127.0.0.1:" + ftpPort + "/";
        curl(0, client, url);
        curl(0, client, "--disable-epsv", url);
        curl(0, client, "-P", "-", url + "README.txt");
        curl(0, client, "-P", "-", "--disable-eprt", url + "sample.bin");
        curl(0, client, "-T", upload.toString(), url + "upload/");
        // The demo offers explicit FTPS with a certificate of its own: a TLS control and data handshake.
        curl(0, client, "--ssl-reqd", "-k", url + "README.txt");
        // PORT/EPRT naming another address than the client's own: refused as bounce (RFC 2577).
        String other = client.equals("127.0.0.9") ? "127.0.0.8" : "127.0.0.9";
        curl(30, client, "-P", other, url + "README.txt");
        sessionsRun += 7;
    }

    private void curl(int expectedExit, String client, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--interface", client, "-o", "/dev/null"));
        cmd.addAll(List.of(args));
        ToolRun r = ToolRun.run(TOOL_TIMEOUT, tmp, cmd.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s", r).isEqualTo(expectedExit);
    }

    /** Until Prometheus has seen every session end, and a few more scrapes so that rate() has two samples of each. */
    private void awaitScrapedSessions() throws Exception {
        String q = "sum(ftpgate_session_duration_seconds_count{job=\"" + JOB + "\"})";
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> prometheus.value(q) == sessionsRun);
        Thread.sleep(3000);
    }

    private Set<Object> labels(List<DashboardQueries.Query> queries, String panel, String label) throws Exception {
        Set<Object> values = new java.util.TreeSet<>();
        for (DashboardQueries.Query q : queries) {
            if (q.panel().equals(panel)) {
                for (Map<String, Object> s : prometheus.query(q.expr()).series()) {
                    if (s.containsKey(label)) {
                        values.add(s.get(label));
                    }
                }
            }
        }
        return values;
    }

    /** The ftpgate_* series (name and labels) of {@code after} that {@code before} lacks. */
    private static List<String> newSeries(String before, String after) {
        java.util.Set<String> had = new java.util.HashSet<>();
        before.lines().filter(l -> l.startsWith("ftpgate_")).forEach(l -> had.add(l.substring(0, l.lastIndexOf(' '))));
        return after.lines().filter(l -> l.startsWith("ftpgate_")).map(l -> l.substring(0, l.lastIndexOf(' ')))
                .filter(k -> !had.contains(k)).toList();
    }

    private static long ftpgateLines(String exposition) {
        return exposition.lines().filter(l -> l.startsWith("ftpgate_")).count();
    }

    private String scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + metricsAddress + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private void start(String name, String... command) throws IOException {
        Path log = tmp.resolve(name + ".log");
        processes.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start());
    }
}
