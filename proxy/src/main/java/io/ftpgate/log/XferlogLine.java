package io.ftpgate.log;

import java.net.InetAddress;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One line of wu-ftpd's xferlog(5), the format ProFTPD, vsftpd ({@code xferlog_std_format}) and
 * Pure-FTPd also write and that xferstats, webalizer and fail2ban read:
 * <pre>
 * current-time  transfer-time remote-host file-size filename transfer-type special-action-flag
 *               direction access-mode username service-name authentication-method
 *               authenticated-user-id completion-status
 * Sat Dec  5 11:06:33 2026 2 198.51.100.7 1048576 /pub/file.iso b _ o r * ftp 0 * c
 * </pre>
 * What a gateway cannot know is written as the format allows: transfer type {@code b} (the
 * representation type is the server's business), access mode {@code r} and user {@code *} (the
 * gateway does not track logins), no authentication ({@code 0 *}). Transfer time in whole seconds,
 * rounded up (wu-ftpd's rule: a transfer takes at least one); whitespace in file names becomes
 * {@code _} (ProFTPD's rule), so every field stays one word. Only downloads and uploads have
 * xferlog lines; listings have none.
 */
public record XferlogLine(ZonedDateTime end, long seconds, InetAddress client, long bytes, String file,
                          char direction, boolean complete) {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);
    private static final Pattern WHITESPACE = Pattern.compile("\\s");

    /** A line for a transfer that took {@code elapsedNanos}, or none for a listing. */
    public static Optional<XferlogLine> of(ZonedDateTime end, long elapsedNanos, InetAddress client, long bytes,
                                           String file, String verb, boolean complete) {
        char direction = switch (verb) {
            case "RETR" -> 'o';
            case "STOR", "STOU", "APPE" -> 'i';
            default -> ' ';
        };
        if (direction == ' ') {
            return Optional.empty();
        }
        long seconds = Math.max(1, (elapsedNanos + 999_999_999L) / 1_000_000_000L);
        return Optional.of(new XferlogLine(end, seconds, client, bytes, file, direction, complete));
    }

    @Override
    public String toString() {
        String name = file.isEmpty() ? "-" : WHITESPACE.matcher(file).replaceAll("_");
        return String.join(" ", TIME.format(end), Long.toString(seconds), client.getHostAddress(),
                Long.toString(bytes), name, "b", "_", String.valueOf(direction), "r", "*", "ftp", "0", "*",
                complete ? "c" : "i");
    }
}
