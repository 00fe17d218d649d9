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

    @Override
    public void close() {
        gateway.close();
    }
}
