package io.ftpgate.monitoring;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The few calls of the Prometheus HTTP API the tests make; JSON read with Typesafe Config (a JSON superset). */
final class PrometheusApi {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    PrometheusApi(String hostPort) {
        this.base = "http://" + hostPort;
    }

    /** The answer to an instant query: {@code status} "success" or "error", and the vector's series. */
    record Answer(String status, String error, List<Map<String, Object>> series) {
        boolean ok() {
            return "success".equals(status);
        }
    }

    Answer query(String promql) throws IOException, InterruptedException {
        Config c = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        String status = c.getString("status");
        if (!"success".equals(status)) {
            return new Answer(status, c.hasPath("error") ? c.getString("error") : "(no error text)", List.of());
        }
        List<Map<String, Object>> series = c.getString("data.resultType").equals("scalar")
                ? List.of(Map.of())
                : c.getObjectList("data.result").stream().map(o -> o.toConfig().getObject("metric").unwrapped()).toList();
        return new Answer(status, "", series);
    }

    /** The number in a single-series instant query, or NaN when it returns nothing. */
    double value(String promql) throws IOException, InterruptedException {
        Config c = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!c.getString("status").equals("success") || c.getList("data.result").isEmpty()) {
            return Double.NaN;
        }
        List<Object> sample = c.getObjectList("data.result").get(0).toConfig().getList("value").unwrapped();
        return Double.parseDouble(sample.get(1).toString());
    }

    /** Every loaded rule: name, query, health ("ok", "err", "unknown") and lastError. */
    List<Config> rules() throws IOException, InterruptedException {
        return get("/api/v1/rules").getObjectList("data.groups").stream()
                .flatMap(g -> g.toConfig().getObjectList("rules").stream()).map(r -> r.toConfig()).toList();
    }

    /** Alerts pending or firing now, as "name{labels} state". */
    List<String> activeAlerts() throws IOException, InterruptedException {
        return get("/api/v1/alerts").getObjectList("data.alerts").stream()
                .map(a -> a.toConfig().getObject("labels").unwrapped() + " " + a.toConfig().getString("state")).toList();
    }

    boolean ready() {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(base + "/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Config get(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        // Errors (400 bad_data for a query that does not parse) come with a JSON body too.
        return ConfigFactory.parseString(r.body(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }
}
