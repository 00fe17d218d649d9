package io.ftpgate.session;

import java.time.Duration;

/** Durations in replies, as users read them. */
final class Durations {
    private Durations() {
    }

    /** "45 s", "30 min", "2 h"; rounded up, at least 1 s. */
    static String forUsers(Duration d) {
        long s = Math.max(1, (d.toMillis() + 999) / 1000);
        if (s < 120) {
            return s + " s";
        }
        long min = (s + 59) / 60;
        return min < 180 ? min + " min" : (min + 59) / 60 + " h";
    }
}
