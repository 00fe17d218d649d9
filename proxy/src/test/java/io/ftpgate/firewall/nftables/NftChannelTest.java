package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.process.CommandRunner;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The acknowledgement protocol against a stand-in for {@code nft -i}: a shell loop that, like nft's
 * interactive mode, complains on stderr about a line it refuses (its {@code Error:} line, the line
 * itself, a line of carets) and keeps going, and can be told to hang or to die. The real nft is in
 * NftFirewallIT.
 */
class NftChannelTest {

    private static final String FAKE_NFT = """
            while IFS= read -r line; do
              case "$line" in
                "list set inet ftpgate ack-"*|*bad*)
                  echo "Error: No such file or directory" >&2; echo "$line" >&2; echo "      ^^^^^^" >&2 ;;
                whoami) echo "Error: pid $$ home $HOME" >&2; echo "$line" >&2 ;;
                hang) exec sleep 30 ;;
                die) exit 3 ;;
              esac
            done
            """;

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, false);
    private NftChannel channel;

    private NftChannel channel(Duration timeout) {
        channel = new NftChannel(List.of("sh", "-c", FAKE_NFT, "fake-nft"), rules, timeout, new CommandRunner());
        return channel;
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    @Test
    void aBatchReturnsOnceAcknowledgedWithNoComplaint() throws Exception {
        NftChannel c = channel(Duration.ofSeconds(5));
        assertThat(c.execute(List.of("add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s }")))
                .isEmpty();
        assertThat(c.execute(List.of())).isEmpty();
    }

    @Test
    void eachRefusedLineGetsItsComplaintAndTheChannelGoesOn() throws Exception {
        NftChannel c = channel(Duration.ofSeconds(5));
        Map<String, String> refused = c.execute(List.of("add element good", "add element bad-1", "add element bad-2"));
        assertThat(refused).isEqualTo(Map.of(
                "add element bad-1", "Error: No such file or directory",
                "add element bad-2", "Error: No such file or directory"));
        assertThat(c.execute(List.of("add element good"))).isEmpty();
    }

    @Test
    void aProcessIsReplacedAfterItsShareOfLinesAndKeepsNoHistoryFile() throws Exception {
        NftChannel c = channel(Duration.ofSeconds(5));
        String first = c.execute(List.of("whoami")).get("whoami");
        assertThat(first).matches("Error: pid \\d+ home /dev/null");
        assertThat(c.execute(List.of("whoami")).get("whoami")).as("the same process").isEqualTo(first);
        // whoami + ack twice, then this batch and its ack: exactly the share of one process.
        c.execute(java.util.Collections.nCopies(NftChannel.LINES_PER_PROCESS - 5, "add element good"));
        assertThat(c.execute(List.of("whoami")).get("whoami")).as("a new process").isNotEqualTo(first);
    }

    @Test
    void noAcknowledgementWithinTheTimeoutFailsAndTheNextBatchGetsANewProcess() throws Exception {
        NftChannel c = channel(Duration.ofMillis(500));
        assertThatThrownBy(() -> c.execute(List.of("hang")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("nft did not acknowledge hang within 500 ms")
                .matches(e -> ((FirewallException) e).timedOut(), "says its outcome is unknown (timed out)");
        assertThat(c.execute(List.of("add element good"))).isEmpty();
    }

    @Test
    void aProcessThatDiesFailsItsBatchAndIsRestarted() throws Exception {
        NftChannel c = channel(Duration.ofSeconds(5));
        assertThatThrownBy(() -> c.execute(List.of("die")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("nft ended (exit 3) before acknowledging die");
        assertThat(c.execute(List.of("add element good"))).isEmpty();
    }
}
