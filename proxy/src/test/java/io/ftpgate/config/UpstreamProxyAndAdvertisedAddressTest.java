package io.ftpgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The listener keys {@code upstream-proxy-protocol} (and {@code destinations.upstream-proxy-protocol})
 * and {@code advertised-address}, as {@code --check-config} reads them: defaults, precedence, and
 * errors that name file, line and key.
 */
class UpstreamProxyAndAdvertisedAddressTest {
    @TempDir
    Path dir;

    private Settings load(String hocon) throws Exception {
        Path f = dir.resolve("ftpgate.conf");
        Files.writeString(f, hocon);
        return SettingsLoader.load(Optional.of(f), ConfigFactory.empty());
    }

    private static final String EXPLICIT = "ftpgate.listeners.x { listen = [\"192.0.2.1:21\", \"[2001:db8::1]:21\"], "
            + "upstream = \"203.0.113.2:21\", ";

    @Test
    void offByDefaultSetPerListenerOverTheDefaultsAndForForwardListenersInDestinations() throws Exception {
        Settings plain = load(EXPLICIT + "}\n");
        assertThat(plain.listeners().get(0).upstreamProxyProtocol()).isEqualTo(UpstreamProxyProtocol.OFF);
        assertThat(plain.listeners().get(0).advertisedAddresses()).isEqualTo(AdvertisedAddresses.NONE);

        Settings s = load("ftpgate.listener-defaults.upstream-proxy-protocol = v1\n"
                + EXPLICIT + "upstream-proxy-protocol = v2 }\n"
                + "ftpgate.listeners.y { listen = [\"192.0.2.1:2121\"], upstream = \"203.0.113.2:21\" }\n"
                + "ftpgate.listeners.z { mode = forward, listen = [\"192.0.2.1:990\"] }\n"
                + "ftpgate.destinations { allow = [\"203.0.113.0/24\"], upstream-proxy-protocol = v2 }\n");
        assertThat(s.listeners()).extracting(Settings.Listener::name, Settings.Listener::upstreamProxyProtocol)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("x", UpstreamProxyProtocol.V2),
                        org.assertj.core.groups.Tuple.tuple("y", UpstreamProxyProtocol.V1),
                        org.assertj.core.groups.Tuple.tuple("z", UpstreamProxyProtocol.V2));
    }

    @Test
    void advertisedAddressesOneOrOnePerFamily() throws Exception {
        AdvertisedAddresses one = load(EXPLICIT + "advertised-address = \"198.51.100.77\" }\n")
                .listeners().get(0).advertisedAddresses();
        assertThat(one.all()).containsExactly(InetAddress.getByName("198.51.100.77"));
        assertThat(one.forFamilyOf(InetAddress.getByName("192.0.2.1"))).contains(InetAddress.getByName("198.51.100.77"));
        assertThat(one.forFamilyOf(InetAddress.getByName("2001:db8::1"))).isEmpty();

        AdvertisedAddresses both = load(EXPLICIT + "advertised-address = [\"2001:db8:77::1\", \"198.51.100.77\"] }\n")
                .listeners().get(0).advertisedAddresses();
        assertThat(both.forFamilyOf(InetAddress.getByName("2001:db8::1"))).contains(InetAddress.getByName("2001:db8:77::1"));
        assertThat(both.forFamilyOf(InetAddress.getByName("192.0.2.1"))).contains(InetAddress.getByName("198.51.100.77"));

        Settings wildcard = load("ftpgate.listeners.w { listen = [\"[::]:21\"], upstream = \"203.0.113.2:21\", "
                + "advertised-address = [\"198.51.100.77\", \"2001:db8:77::1\"] }\n");
        assertThat(wildcard.listeners().get(0).advertisedAddresses().all()).as("[::] takes both families").hasSize(2);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            EXPLICIT + "upstream-proxy-protocol = v3 }|ftpgate.conf: 1: ftpgate.listeners.x.upstream-proxy-protocol: must be one of: off, v1, v2",
            "ftpgate.listener-defaults.upstream-proxy-protocol = yes|ftpgate.listener-defaults.upstream-proxy-protocol: must be one of: off, v1, v2",
            "ftpgate.destinations.upstream-proxy-protocol = 2|ftpgate.destinations.upstream-proxy-protocol: must be one of: off, v1, v2",
            "ftpgate.listeners.z { mode = forward, listen = [\"192.0.2.1:21\"], upstream-proxy-protocol = v2 }, "
                    + "ftpgate.destinations.allow = [\"10.0.0.0/8\"]|ftpgate.listeners.z.upstream-proxy-protocol: a forward "
                    + "listener's servers take destinations.upstream-proxy-protocol",
            "ftpgate.listeners.v4 { listen = [\"192.0.2.1:21\"], upstream = \"a:21\", advertised-address = \"2001:db8::5\" }"
                    + "|ftpgate.conf: 1: ftpgate.listeners.v4.advertised-address: '2001:db8::5' is IPv6 but the listener "
                    + "listens on IPv4 only",
            "ftpgate.listeners.v6 { listen = [\"[2001:db8::1]:21\"], upstream = \"a:21\", advertised-address = \"192.0.2.5\" }"
                    + "|ftpgate.listeners.v6.advertised-address: '192.0.2.5' is IPv4 but the listener listens on IPv6 only",
            EXPLICIT + "advertised-address = [\"192.0.2.5\", \"192.0.2.6\"] }|ftpgate.listeners.x.advertised-address: names "
                    + "two IPv4 addresses",
            EXPLICIT + "advertised-address = \"gw.example.net\" }|ftpgate.listeners.x.advertised-address: 'gw.example.net' "
                    + "must be an IP address",
            EXPLICIT + "advertised-address = \"0.0.0.0\" }|ftpgate.listeners.x.advertised-address: '0.0.0.0' is not an "
                    + "address clients can connect to",
            EXPLICIT + "advertised-address = \"192.0.2.300\" }|ftpgate.listeners.x.advertised-address: '192.0.2.300' is not a "
                    + "valid IP address",
            EXPLICIT + "advertised-address = [] }|ftpgate.listeners.x.advertised-address: is empty",
            EXPLICIT + "advertise-address = \"192.0.2.5\" }|ftpgate.listeners.x.advertise-address: unknown key",
    })
    void errorsNameFileLineAndKey(String hocon, String expected) {
        assertThatThrownBy(() -> load(hocon.replace("}, ", "}\n"))).isInstanceOf(ConfigError.class)
                .hasMessageContaining(expected);
    }
}
