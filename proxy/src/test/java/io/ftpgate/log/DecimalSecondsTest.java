package io.ftpgate.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DecimalSecondsTest {

    @Test
    void writesFixedDecimalsRoundedHalfUp() {
        assertThat(DecimalSeconds.of(2_250_000_000L, 3)).isEqualTo("2.250");
        assertThat(DecimalSeconds.of(20_000_000L, 3)).isEqualTo("0.020");
        assertThat(DecimalSeconds.of(0, 1)).isEqualTo("0.0");
        assertThat(DecimalSeconds.of(49_999_999L, 1)).isEqualTo("0.0");
        assertThat(DecimalSeconds.of(50_000_000L, 1)).isEqualTo("0.1");
        assertThat(DecimalSeconds.of(9_950_000_000L, 1)).isEqualTo("10.0");
        assertThat(DecimalSeconds.of(1_499_999_999L, 0)).isEqualTo("1");
        assertThat(DecimalSeconds.of(1_500_000_000L, 0)).isEqualTo("2");
        assertThat(DecimalSeconds.of(123_456_789L, 9)).isEqualTo("0.123456789");
    }

    /** What the log lines held before: String.format of the double, for durations up to a year. */
    @Test
    void matchesStringFormatOfTheDouble() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) {
            long nanos = switch (i % 4) {
                case 0 -> random.nextLong(10_000_000_000L);
                case 1 -> random.nextLong(365L * 86_400 * 1_000_000_000L);
                case 2 -> random.nextLong(10_000) * 50_000_000L + random.nextLong(-2, 3); // near the .x5 boundaries
                default -> random.nextLong(10_000_000) * 500_000L + random.nextLong(-2, 3);
            };
            nanos = Math.max(0, nanos);
            for (int decimals : new int[] {1, 3}) {
                assertThat(DecimalSeconds.of(nanos, decimals)).as("%d ns, %d decimals", nanos, decimals)
                        .isEqualTo(String.format(Locale.ROOT, "%." + decimals + "f", nanos / 1e9));
            }
        }
    }

    @Test
    void refusesDecimalsItCannotWrite() {
        assertThatThrownBy(() -> DecimalSeconds.of(1, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
