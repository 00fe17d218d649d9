package io.ftpgate.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One server reply, RFC 959 §4.2: a three-digit code and one or more lines as on the wire
 * (without CRLF). The first line starts with the code; a multi-line reply's first line is
 * {@code NNN-text} and its last {@code NNN text}.
 */
public record FtpReply(int code, List<String> lines) {
    private static final Pattern LINE_BREAK = Pattern.compile("\r?\n");

    public FtpReply {
        if (code < 100 || code > 599) {
            throw new IllegalArgumentException("reply code " + code + " is not in 100..599");
        }
        lines = List.copyOf(lines);
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("a reply has at least one line");
        }
        if (!lines.get(0).startsWith(Integer.toString(code))) {
            throw new IllegalArgumentException("first line does not start with " + code + ": "
                    + LogText.escape(lines.get(0)));
        }
        for (String line : lines) {
            if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("reply line contains CR or LF: " + LogText.escape(line));
            }
        }
    }

    /**
     * A reply with this text. A text with {@code '\n'} becomes a multi-line reply (RFC 959 §4.2):
     * {@code code-first}, the middle lines as they are, {@code code last}. A middle line that would
     * read as the end line ({@code "code "} or exactly {@code "code"}) gets a leading space, as
     * §4.2 recommends, so the reply cannot end early.
     */
    public static FtpReply of(int code, String text) {
        Objects.requireNonNull(text, "text");
        String prefix = Integer.toString(code);
        String[] parts = LINE_BREAK.split(text, -1);
        if (parts.length == 1) {
            return new FtpReply(code, List.of(prefix + " " + text));
        }
        List<String> lines = new ArrayList<>(parts.length);
        lines.add(prefix + "-" + parts[0]);
        for (int i = 1; i < parts.length - 1; i++) {
            String middle = parts[i];
            boolean looksLikeEnd = middle.equals(prefix) || middle.startsWith(prefix + " ");
            lines.add(looksLikeEnd ? " " + middle : middle);
        }
        lines.add(prefix + " " + parts[parts.length - 1]);
        return new FtpReply(code, lines);
    }

    /** The text of the first line after {@code "NNN "} or {@code "NNN-"}. */
    public String text() {
        String first = lines.get(0);
        return first.length() <= 4 ? "" : first.substring(4);
    }

    /** 1yz: the action is starting; expect another reply (RFC 959 §4.2.1). */
    public boolean isPreliminary() {
        return code / 100 == 1;
    }

    /** 2yz: the action completed. */
    public boolean isPositiveCompletion() {
        return code / 100 == 2;
    }

    /** 3yz: the command is accepted; the server waits for the next one. */
    public boolean isPositiveIntermediate() {
        return code / 100 == 3;
    }

    /** 4yz: failed, worth retrying. */
    public boolean isTransientNegative() {
        return code / 100 == 4;
    }

    /** 5yz: failed, do not retry as is. */
    public boolean isPermanentNegative() {
        return code / 100 == 5;
    }

    /** Every reply but 1yz ends the command's exchange. */
    public boolean isFinal() {
        return code >= 200;
    }

    /** The reply as bytes-as-chars for the wire: each line followed by CRLF. */
    public String toWire() {
        return String.join("\r\n", lines) + "\r\n";
    }

    @Override
    public String toString() {
        return LogText.escape(String.join("\n", lines));
    }
}
