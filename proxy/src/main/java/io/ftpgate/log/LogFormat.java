package io.ftpgate.log;

import java.util.Map;
import java.util.Optional;

/**
 * The log format, chosen by the environment variable {@code FTPGATE_LOG_FORMAT}: {@code text}
 * (the default, one line per event) or {@code json} (one object per line, logstash-logback-encoder).
 *
 * <p>An environment variable and not a setting, because logback configures itself from
 * {@code logback.xml} at the first log call, before and independently of the settings file: every
 * line, those of a start that fails on the settings and of {@code --cleanup-firewall} included,
 * comes out in one format, and {@code logback.xml} stays the one place that says what each format
 * holds. The unit reads it from {@code /etc/default/ftpgate} (as {@code FTPGATE_LOG_LEVEL}).
 */
public final class LogFormat {
    public static final String VARIABLE = "FTPGATE_LOG_FORMAT";
    /** The file that gets wu-ftpd xferlog lines ({@code logback.xml}). */
    public static final String XFERLOG = "FTPGATE_XFERLOG";

    private LogFormat() {}

    /** The problem with the variable's value, if any (logback would otherwise log nothing at all). */
    public static Optional<String> problem(Map<String, String> environment) {
        String value = environment.get(VARIABLE);
        if (value == null || value.equals("text") || value.equals("json")) {
            return Optional.empty();
        }
        return Optional.of("environment variable " + VARIABLE + "=" + value + ": must be text or json");
    }

    /**
     * For a run that makes no transfers (a check, a print, the unit's ExecStopPost cleanup, which
     * runs as root): the xferlog file is not opened, so such a run never creates it with its own
     * owner before the daemon does. Call before the first log call; logback looks a variable up in
     * the system properties before the environment.
     */
    public static void oneShot() {
        System.setProperty(XFERLOG, "/dev/null");
    }
}
