package io.ftpgate.testing;

import com.typesafe.config.ConfigFactory;
import io.ftpgate.Gateway;
import io.ftpgate.config.Settings;
import io.ftpgate.config.SettingsLoader;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A gateway on an ephemeral loopback port in front of one upstream, with a recording firewall. */
public final class GatewayUnderTest implements AutoCloseable {
    public final RecordingFirewall firewall = new RecordingFirewall();
    public final Gateway gateway;

    public GatewayUnderTest(String listen, String upstream, Map<String, Object> extra) throws Exception {
        Map<String, Object> m = new HashMap<>();
        m.put("ftpgate.listeners.test.listen", List.of(listen));
        if (upstream != null) {
            m.put("ftpgate.listeners.test.upstream", upstream);
        }
        m.put("ftpgate.metrics.listen", "");
        m.put("ftpgate.data.connect-timeout", "3s");
        m.put("ftpgate.shutdown.grace-period", "1s");
        m.putAll(extra);
        gateway = Gateway.start(settings(m), firewall);
    }

    /** Settings from reference.conf with {@code overrides} (full paths) over them. */
    public static Settings settings(Map<String, Object> overrides) throws Exception {
        return SettingsLoader.load(Optional.empty(), ConfigFactory.parseMap(overrides));
    }

    public InetSocketAddress address() {
        return gateway.boundAddresses().get(0);
    }

    /** Waits (5 s at most) until no session runs and no firewall lease is left. */
    public void awaitNoSessionsNorLeases() {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
            org.assertj.core.api.Assertions.assertThat(gateway.activeSessions()).as("sessions running").isZero();
            org.assertj.core.api.Assertions.assertThat(firewall.active()).as("leases left behind").isEmpty();
        });
    }

    /** Waits (5 s at most) until no firewall lease is left, while sessions may go on. */
    public void awaitNoLeases() {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                org.assertj.core.api.Assertions.assertThat(firewall.active()).as("leases left behind").isEmpty());
    }

    /** The value of {@code ftpgate_refused_total{reason="REASON"}}, 0 if never counted. */
    public double refusedCount(String reason) {
        var c = gateway.meterRegistry().find("ftpgate.refused").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() {
        gateway.close();
    }
}
