package io.ftpgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.metrics.GatewayMetrics.Outcome;
import io.ftpgate.metrics.GatewayMetrics.TransferKind;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The meters of every session as Prometheus shows them, counted over repeated events and several
 * tag values (each meter is registered once and kept: the counts must still add up per series).
 */
class SessionMetricsTest {
    /** The session's data mode enum lives in session; any enum makes the label. */
    private enum Mode { PASSIVE }

    @Test
    void repeatedEventsAddUpPerSeries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        GatewayMetrics m = new MicrometerMetrics(registry, "test", "gw-test");
        for (int i = 0; i < 3; i++) {
            m.sessionOpened("main");
            m.command("USER");
            m.reply(331);
            m.reply(230);
            m.login("main", true);
            m.transferEnded(TransferKind.LISTING, Mode.PASSIVE, Outcome.COMPLETED, TimeUnit.MILLISECONDS.toNanos(2), 100);
            m.sessionClosed("main", TimeUnit.MILLISECONDS.toNanos(20));
        }
        m.sessionOpened("ftps");
        m.command("OTHER");
        m.reply(530);
        m.login("main", false);

        assertThat(registry.scrape())
                .contains("ftpgate_sessions_total{listener=\"main\"} 3.0")
                .contains("ftpgate_sessions_total{listener=\"ftps\"} 1.0")
                .contains("ftpgate_session_duration_seconds_count{listener=\"main\"} 3")
                .contains("ftpgate_commands_total{verb=\"user\"} 3.0")
                .contains("ftpgate_commands_total{verb=\"other\"} 1.0")
                .contains("ftpgate_replies_total{class=\"3xx\"} 3.0")
                .contains("ftpgate_replies_total{class=\"2xx\"} 3.0")
                .contains("ftpgate_replies_total{class=\"5xx\"} 1.0")
                .contains("ftpgate_logins_total{listener=\"main\",outcome=\"success\"} 3.0")
                .contains("ftpgate_logins_total{listener=\"main\",outcome=\"failure\"} 1.0")
                .contains("ftpgate_transfers_total{kind=\"listing\",mode=\"passive\",outcome=\"completed\"} 3.0")
                .contains("ftpgate_transfer_size_bytes_sum{kind=\"listing\"} 300.0");
    }
}
