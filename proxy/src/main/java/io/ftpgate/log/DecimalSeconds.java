package io.ftpgate.log;

/**
 * Elapsed nanoseconds as seconds with a fixed number of decimals, rounded half up: {@code "2.250"},
 * {@code "0.1"}. The same text as {@code String.format(Locale.ROOT, "%.3f", nanos / 1e9)} (for any
 * duration below a year), without a {@link java.util.Formatter}, its locale lookups and its
 * floating-point conversion on every session and transfer.
 */
public final class DecimalSeconds {
    private static final long[] POWERS = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000,
            100_000_000, 1_000_000_000};

    private DecimalSeconds() {
    }

    /** {@code nanos} as seconds with {@code decimals} (0 to 9) digits after the point. */
    public static String of(long nanos, int decimals) {
        if (decimals < 0 || decimals > 9) {
            throw new IllegalArgumentException("decimals must be 0 to 9: " + decimals);
        }
        if (nanos < 0) {
            return "-" + of(-nanos, decimals);
        }
        long step = POWERS[9 - decimals];
        long scaled = nanos / step + (nanos % step >= step / 2 && step > 1 ? 1 : 0);
        long whole = scaled / POWERS[decimals];
        if (decimals == 0) {
            return Long.toString(whole);
        }
        String fraction = Long.toString(scaled % POWERS[decimals]);
        StringBuilder text = new StringBuilder(24).append(whole).append('.');
        text.append("0".repeat(decimals - fraction.length()));
        return text.append(fraction).toString();
    }
}
