package io.ftpgate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.config.Cidr;
import io.ftpgate.config.Settings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DestinationPolicyTest {
    private static final DestinationPolicy POLICY;

    static {
        try {
            POLICY = new DestinationPolicy(
                    new Settings.Destinations(List.of("203.0.113.0/24", "2001:db8:2::/64"), List.of("203.0.113.128/25"), List.of(21, 2121)),
                    Set.of(InetAddress.getByName("198.51.100.1"), InetAddress.getByName("203.0.113.1")));
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @ParameterizedTest(name = "{0}:{1} -> {2}")
    @CsvSource({
            "203.0.113.2, 21, ",
            "203.0.113.2, 2121, ",
            "203.0.113.2, 22, DESTINATION_DENIED",
            "203.0.113.200, 21, DESTINATION_DENIED",
            "192.0.2.1, 21, DESTINATION_DENIED",
            "2001:db8:2::2, 21, ",
            "2001:db8:3::2, 21, DESTINATION_DENIED",
            "203.0.113.1, 21, DESTINATION_LOOP",
            "198.51.100.1, 21, DESTINATION_LOOP",
            "::ffff:203.0.113.1, 21, DESTINATION_LOOP",
            "127.0.0.1, 21, DESTINATION_LOOP",
            "::1, 21, DESTINATION_LOOP",
            "0.0.0.0, 21, DESTINATION_LOOP",
            "224.0.0.1, 21, DESTINATION_LOOP",
    })
    void check(String address, int port, Reason expected) throws Exception {
        assertThat(POLICY.check(new InetSocketAddress(InetAddress.getByName(address), port)))
                .isEqualTo(Optional.ofNullable(expected));
    }

    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
            "10.0.0.0/8, 10.255.1.2, true",
            "10.0.0.0/8, 11.0.0.1, false",
            "192.0.2.0/25, 192.0.2.127, true",
            "192.0.2.0/25, 192.0.2.128, false",
            "0.0.0.0/0, 8.8.8.8, true",
            "0.0.0.0/0, 2001:db8::1, false",
            "2001:db8::/32, 2001:db8:ffff::1, true",
            "2001:db8::/33, 2001:db8:8000::1, false",
            "192.0.2.7, 192.0.2.7, true",
            "192.0.2.7, 192.0.2.8, false",
    })
    void cidr(String net, String address, boolean expected) throws Exception {
        assertThat(Cidr.parse(net).contains(InetAddress.getByName(address))).isEqualTo(expected);
    }
}
