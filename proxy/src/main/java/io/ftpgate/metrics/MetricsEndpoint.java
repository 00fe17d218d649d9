package io.ftpgate.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * The gateway's HTTP endpoint: the Prometheus text exposition (GET only) on its configured path,
 * {@code GET /health} (200 while the gateway works, 503 otherwise) and {@code GET /ready} (200
 * while it takes new sessions, 503 with the reason otherwise), for load balancers, keepalived and
 * systemd; {@code POST /drain} and {@code POST /undrain} from a loopback client (anyone else gets
 * 403: the endpoint may listen where a load balancer can reach it).
 */
public final class MetricsEndpoint implements AutoCloseable {
    public static final String HEALTH_PATH = "/health";
    public static final String READY_PATH = "/ready";
    public static final String DRAIN_PATH = "/drain";
    public static final String UNDRAIN_PATH = "/undrain";

    private final HttpServer server;

    public MetricsEndpoint(PrometheusMeterRegistry registry, InetSocketAddress address, String path, HealthProbes probes,
                           DrainSwitch drain) throws IOException {
        server = HttpServer.create(address, 16);
        server.createContext(DRAIN_PATH, exchange -> {
            try (exchange) {
                if (localPost(exchange, DRAIN_PATH)) {
                    text(exchange, 200, drain.drain());
                }
            }
        });
        server.createContext(UNDRAIN_PATH, exchange -> {
            try (exchange) {
                if (localPost(exchange, UNDRAIN_PATH)) {
                    text(exchange, 200, drain.undrain());
                }
            }
        });
        server.createContext(HEALTH_PATH, exchange -> {
            try (exchange) {
                if (readOnly(exchange, HEALTH_PATH)) {
                    boolean alive = probes.alive();
                    text(exchange, alive ? 200 : 503, alive ? "alive" : "not alive: an event loop does not answer");
                }
            }
        });
        server.createContext(READY_PATH, exchange -> {
            try (exchange) {
                if (readOnly(exchange, READY_PATH)) {
                    Optional<String> why = probes.notReady();
                    text(exchange, why.isEmpty() ? 200 : 503, why.map(w -> "not ready: " + w).orElse("ready"));
                }
            }
        });
        server.createContext(path, exchange -> {
            try (exchange) {
                if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ftpgate-metrics");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /**
     * Answers 404 for a longer path (the JDK server matches contexts by prefix) and 405 for a
     * method other than GET and HEAD; true when the request may be served.
     */
    private static boolean readOnly(HttpExchange exchange, String path) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(path)) {
            exchange.sendResponseHeaders(404, -1);
            return false;
        }
        if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(405, -1);
            return false;
        }
        return true;
    }

    /** Only POST, only on the exact path, only from a loopback address; true when it may be served. */
    private static boolean localPost(HttpExchange exchange, String path) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(path)) {
            exchange.sendResponseHeaders(404, -1);
            return false;
        }
        if (!"POST".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(405, -1);
            return false;
        }
        if (!exchange.getRemoteAddress().getAddress().isLoopbackAddress()) {
            text(exchange, 403, "forbidden: " + path + " is only answered to clients on a loopback address");
            return false;
        }
        return true;
    }

    /** One line of text with the status (no body for HEAD). */
    private static void text(HttpExchange exchange, int status, String line) throws IOException {
        byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
