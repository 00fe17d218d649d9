package io.ftpgate.firewall.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.FirewallException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The deadline of a {@link Conversation} exchange ({@link ExchangeWatchdog}) against a shell
 * stand-in that answers {@code ack N} on stderr and can be told to be slow or to hang.
 */
class ConversationTest {

    private static final String FAKE = """
            while IFS= read -r line; do
              set -- $line
              case "$1" in
                ack) echo "ack $2" >&2 ;;
                slow) sleep "$2" ;;
                hang) exec sleep 30 ;;
              esac
            done
            """;

    private static final Conversation.Acknowledgement ACK = Conversation.Acknowledgement.of(
            n -> "ack " + n, line -> line.startsWith("ack ") ? Integer.parseInt(line.substring(4).strip()) : -1);

    private final List<Conversation> opened = new java.util.ArrayList<>();

    private Conversation conversation(Duration timeout) {
        Conversation c = new Conversation("fake", List.of("sh", "-c", FAKE, "fake"), ACK, timeout, new CommandRunner());
        opened.add(c);
        return c;
    }

    @AfterEach
    void close() {
        opened.forEach(Conversation::close);
    }

    @Test
    void aStuckExchangeIsKilledAtItsDeadlineAndTheNextOneGetsANewProcess() throws Exception {
        Conversation c = conversation(Duration.ofMillis(400));
        long start = System.nanoTime();
        assertThatThrownBy(() -> c.exchange(List.of("hang")))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("fake did not acknowledge hang within 400 ms")
                .matches(e -> ((FirewallException) e).timedOut(), "timed out");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // Not before its deadline; and long before the watchdog's idle wake-up or the fake's 30 s.
        assertThat(tookMs).isBetween(400L, 10_000L);
        assertThat(c.exchange(List.of("slow 0"))).isEmpty();
    }

    @Test
    void aShortDeadlineIsKeptWhileTheWatchdogWaitsForALongerOne() throws Exception {
        Conversation patient = conversation(Duration.ofSeconds(20));
        Conversation strict = conversation(Duration.ofMillis(300));
        // The watchdog now sleeps towards the patient exchange's deadline, 20 s away.
        CompletableFuture<List<String>> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return patient.exchange(List.of("slow 3"));
            } catch (FirewallException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        long start = System.nanoTime();
        assertThatThrownBy(() -> strict.exchange(List.of("hang")))
                .isInstanceOf(FirewallException.class)
                .matches(e -> ((FirewallException) e).timedOut(), "timed out");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(tookMs).isBetween(300L, 2_500L);
        assertThat(slow).isNotDone(); // the strict one was killed while the patient one still ran
        assertThat(slow.get(10, TimeUnit.SECONDS)).isEmpty(); // and the patient one was not killed
    }

    @Test
    void exchangesThatEndInTimeLeaveNothingWatched() throws Exception {
        Conversation c = conversation(Duration.ofSeconds(5));
        for (int i = 0; i < 200; i++) {
            c.exchange(List.of("slow 0"));
        }
        // A task scheduled per exchange and cancelled stayed queued until its deadline.
        assertThat(ExchangeWatchdog.watched()).isZero();
    }
}
