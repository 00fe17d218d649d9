package io.ftpgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.metrics.GatewayMetrics.TlsChannel;
import io.ftpgate.metrics.GatewayMetrics.TlsLeg;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The TLS meters as Prometheus shows them: names and labels of the catalogue, values from the verbs. */
class TlsMetricsTest {

    @Test
    void tlsVerbsBecomeTheCataloguedSeries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        GatewayMetrics m = new MicrometerMetrics(registry, "test", "gw-test");
        m.tlsHandshake(TlsLeg.CLIENT, TlsChannel.CONTROL, false, true, TimeUnit.MILLISECONDS.toNanos(3));
        m.tlsHandshake(TlsLeg.SERVER, TlsChannel.DATA, true, true, TimeUnit.MILLISECONDS.toNanos(1));
        m.tlsHandshake(TlsLeg.SERVER, TlsChannel.DATA, true, true, TimeUnit.MILLISECONDS.toNanos(1));
        m.tlsHandshake(TlsLeg.CLIENT, TlsChannel.DATA, false, false, TimeUnit.MILLISECONDS.toNanos(10_000));
        m.tlsReuseRejected(TlsLeg.CLIENT);
        m.tlsInjectionRejected(TlsLeg.SERVER);
        m.tlsTruncation(TlsLeg.SERVER);
        m.tlsTruncation(TlsLeg.SERVER);
        AtomicLong notAfter = new AtomicLong(1_803_902_400L);
        m.tlsCertificateNotAfter("ftps", notAfter::get);

        String text = registry.scrape();
        assertThat(text)
                .contains("ftpgate_tls_handshakes_total{channel=\"control\",leg=\"client\",result=\"ok\",resumed=\"no\"} 1.0")
                .contains("ftpgate_tls_handshakes_total{channel=\"data\",leg=\"server\",result=\"ok\",resumed=\"yes\"} 2.0")
                .contains("ftpgate_tls_handshakes_total{channel=\"data\",leg=\"client\",result=\"failed\",resumed=\"no\"} 1.0")
                .contains("ftpgate_tls_handshake_seconds_count{channel=\"data\",leg=\"server\"} 2")
                .contains("ftpgate_tls_handshake_seconds_bucket{channel=\"control\",leg=\"client\",le=\"0.005\"} 1")
                .contains("ftpgate_tls_reuse_rejected_total{leg=\"client\"} 1.0")
                .contains("ftpgate_tls_injection_rejected_total{leg=\"server\"} 1.0")
                .contains("ftpgate_tls_truncations_total{leg=\"server\"} 2.0")
                .contains("ftpgate_tls_certificate_not_after_timestamp_seconds{listener=\"ftps\"} 1.8039024E9")
                .contains("# HELP ftpgate_tls_handshakes_total ");
        // A reload that swaps the certificate moves the gauge.
        notAfter.set(1_900_000_000L);
        assertThat(registry.scrape()).contains("ftpgate_tls_certificate_not_after_timestamp_seconds{listener=\"ftps\"} 1.9E9");
    }
}
