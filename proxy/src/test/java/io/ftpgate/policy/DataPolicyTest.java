package io.ftpgate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DataPolicyTest {
    private final DataPolicy policy = new DataPolicy(false);

    @ParameterizedTest(name = "client {0}, PORT {1}:{2} -> {3}")
    @CsvSource({
            "198.51.100.2, 198.51.100.2, 40000, ",
            "198.51.100.2, 198.51.100.2, 1024, ",
            "198.51.100.2, 198.51.100.3, 40000, BOUNCE",
            "198.51.100.2, 203.0.113.2, 21, BOUNCE",
            "198.51.100.2, 198.51.100.2, 1023, PRIVILEGED_PORT",
            "198.51.100.2, 198.51.100.2, 20, PRIVILEGED_PORT",
            "198.51.100.2, 2001:db8:1::2, 40000, FAMILY_MISMATCH",
            "2001:db8:1::2, 2001:db8:1::2, 40000, ",
            "2001:db8:1::2, 2001:db8:1:0:0:0:0:2, 40000, ",
            "2001:db8:1::2, 2001:db8:1::3, 40000, BOUNCE",
            "::ffff:198.51.100.2, 198.51.100.2, 40000, ",
            "198.51.100.2, ::ffff:198.51.100.2, 40000, ",
            "::ffff:198.51.100.2, 198.51.100.9, 40000, BOUNCE",
    })
    void activeTarget(String client, String target, int port, Reason expected) throws Exception {
        Optional<Reason> verdict = policy.checkActiveTarget(InetAddress.getByName(client),
                new InetSocketAddress(InetAddress.getByName(target), port));
        assertThat(verdict).isEqualTo(Optional.ofNullable(expected));
    }

    @ParameterizedTest
    @CsvSource({
            "false, 203.0.113.2, 10.0.0.5, 203.0.113.2",
            "false, 203.0.113.2, 203.0.113.2, 203.0.113.2",
            "true, 203.0.113.2, 10.0.0.5, 10.0.0.5",
    })
    void passiveTargetReplacesAnnouncedAddressUnlessTrusted(boolean trust, String control, String announced, String expected)
            throws Exception {
        InetSocketAddress t = new DataPolicy(trust).passiveTarget(InetAddress.getByName(control),
                InetAddress.getByName(announced), 50001);
        assertThat(t).isEqualTo(new InetSocketAddress(InetAddress.getByName(expected), 50001));
    }

    @ParameterizedTest
    @CsvSource({"::ffff:192.0.2.1, 192.0.2.1", "192.0.2.1, 192.0.2.1", "2001:db8::1, 2001:db8::1"})
    void unmapsIpv4MappedAddresses(String in, String out) throws Exception {
        assertThat(Addresses.unmap(InetAddress.getByName(in))).isEqualTo(InetAddress.getByName(out));
    }

    @ParameterizedTest
    @CsvSource({"BOUNCE, 504", "PRIVILEGED_PORT, 504", "FIREWALL_FAILED, 425", "DEADLINE, 425", "LONG_ADDRESS, 502"})
    void everyRefusalHasAReplyCodeAndTag(Reason r, int code) {
        assertThat(r.replyCode()).isEqualTo(code);
        assertThat(r.tag()).isEqualTo(r.name().toLowerCase());
        assertThat(r.text("x")).isNotBlank();
    }
}
