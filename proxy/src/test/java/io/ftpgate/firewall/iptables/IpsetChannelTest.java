package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.CommandRunner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.FirewallException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The acknowledgement protocol against a stand-in for {@code ipset -exist -}: a shell loop that,
 * like ipset's interactive mode, answers {@code test} on stderr, complains on stderr about a bad
 * line and keeps going, and can be told to hang or to die. The real ipset is in IpsetFirewallIT.
 */
class IpsetChannelTest {

    private static final String FAKE_IPSET = """
            while IFS= read -r line; do
              set -- $line
              case "$1" in
                test) echo "$3 is NOT in set $2." >&2 ;;
                add) case "$3" in *bad*) echo "ipset v7.17: Syntax error: cannot parse $3" >&2 ;; esac ;;
                warn) echo "Warning: $2 is in set x." >&2 ;;
                hang) exec sleep 30 ;;
                die) exit 3 ;;
              esac
            done
            """;

    private final IpsetRules rules = new IpsetRules(new IptablesRules("FTPGATE"));
    private IpsetChannel channel;

    private IpsetChannel channel(List<String> argv, Duration timeout) {
        channel = new IpsetChannel(argv, rules, timeout, new CommandRunner());
        return channel;
    }

    private IpsetChannel fake() {
        return channel(List.of("sh", "-c", FAKE_IPSET, "fake-ipset"), Duration.ofSeconds(5));
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    @Test
    void aBatchReturnsOnceAcknowledged() throws Exception {
        IpsetChannel c = fake();
        c.execute(List.of("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15"));
        c.execute(List.of("warn 1", "del FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1"));
        c.execute(List.of());
    }

    @Test
    void aRefusedLineFailsItsBatchWithIpsetsWordsAndTheChannelGoesOn() throws Exception {
        IpsetChannel c = fake();
        assertThatThrownBy(() -> c.execute(List.of("add FTPGATE-in4 bad-element timeout 15")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("add FTPGATE-in4 bad-element timeout 15")
                .hasMessageContaining("Syntax error: cannot parse bad-element");
        c.execute(List.of("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15"));
    }

    @Test
    void noAcknowledgementWithinTheTimeoutFailsAndTheNextBatchGetsANewProcess() throws Exception {
        IpsetChannel c = channel(List.of("sh", "-c", FAKE_IPSET, "fake-ipset"), Duration.ofMillis(500));
        assertThatThrownBy(() -> c.execute(List.of("hang")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("did not acknowledge hang within 500 ms")
                .matches(e -> ((FirewallException) e).timedOut(), "says its outcome is unknown (timed out)");
        c.execute(List.of("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15"));
    }

    @Test
    void aProcessThatDiesFailsItsBatchAndIsRestarted() throws Exception {
        IpsetChannel c = fake();
        assertThatThrownBy(() -> c.execute(List.of("die")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("ipset ended (exit 3) before acknowledging die");
        c.execute(List.of("add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15"));
    }

    @Test
    void aMissingBinaryIsAClearError() {
        IpsetChannel c = channel(List.of("/nonexistent/ipset", "-exist", "-"), Duration.ofSeconds(5));
        assertThatThrownBy(() -> c.execute(List.of("add x y")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("cannot start /nonexistent/ipset -exist -");
    }
}
