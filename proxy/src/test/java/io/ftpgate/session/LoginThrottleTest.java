package io.ftpgate.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The ban table on a clock of its own: windows, ban ends, and bounded memory that never drops a ban. */
class LoginThrottleTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final LoginThrottle throttle = new LoginThrottle(now::get);
    final LoginThrottle.Limits limits = new LoginThrottle.Limits(3, Duration.ofMinutes(1), Duration.ofMinutes(10), 100);

    static InetAddress address(int i) throws Exception {
        return InetAddress.getByAddress(new byte[] {10, 0, (byte) (i >> 8), (byte) i});
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void theLimitWithinTheWindowBans() throws Exception {
        InetAddress a = address(1);
        assertThat(throttle.failed(a, limits)).isFalse();
        assertThat(throttle.failed(a, limits)).isFalse();
        assertThat(throttle.bannedFor(a)).isZero();
        assertThat(throttle.failed(a, limits)).isTrue();
        assertThat(throttle.bannedFor(a)).isEqualTo(Duration.ofMinutes(10));
        assertThat(throttle.failed(a, limits)).as("already banned: no second ban").isFalse();
        advance(Duration.ofMinutes(10));
        assertThat(throttle.bannedFor(a)).isZero();
        assertThat(throttle.failed(a, limits)).as("counting starts afresh").isFalse();
    }

    @Test
    void failuresOlderThanTheWindowDoNotCount() throws Exception {
        InetAddress a = address(1);
        throttle.failed(a, limits);
        throttle.failed(a, limits);
        advance(Duration.ofSeconds(61));
        assertThat(throttle.failed(a, limits)).isFalse();
        assertThat(throttle.failed(a, limits)).isFalse();
        assertThat(throttle.failed(a, limits)).isTrue();
    }

    @Test
    void offCountsNothing() throws Exception {
        LoginThrottle.Limits off = new LoginThrottle.Limits(0, Duration.ofMinutes(1), Duration.ofMinutes(1), 100);
        for (int i = 0; i < 10; i++) {
            assertThat(throttle.failed(address(1), off)).isFalse();
        }
        assertThat(throttle.tracked()).isZero();
    }

    @Test
    void aFloodOfAddressesStaysWithinTheCapAndLiftsNoBan() throws Exception {
        InetAddress banned = address(0);
        for (int i = 0; i < 3; i++) {
            throttle.failed(banned, limits);
        }
        for (int i = 1; i <= 5000; i++) {
            throttle.failed(address(i), limits);
            assertThat(throttle.tracked()).isLessThanOrEqualTo(100);
        }
        assertThat(throttle.bannedFor(banned)).isPositive();
    }

    @Test
    void finishedEntriesAreSweptWhenTheTableIsFull() throws Exception {
        for (int i = 0; i < 100; i++) {
            for (int k = 0; k < 3; k++) {
                throttle.failed(address(i), limits); // 100 bans: the table is full of them
            }
        }
        assertThat(throttle.failed(address(1000), limits)).isFalse();
        assertThat(throttle.tracked()).as("no room while every entry is a live ban").isEqualTo(100);
        advance(Duration.ofMinutes(11));
        throttle.failed(address(1000), limits);
        assertThat(throttle.tracked()).as("the finished bans were swept").isEqualTo(1);
    }

    @Test
    void durationsReadAsUsersExpect() {
        assertThat(Durations.forUsers(Duration.ofMillis(1500))).isEqualTo("2 s");
        assertThat(Durations.forUsers(Duration.ofMinutes(30))).isEqualTo("30 min");
        assertThat(Durations.forUsers(Duration.ofHours(5))).isEqualTo("5 h");
    }
}
