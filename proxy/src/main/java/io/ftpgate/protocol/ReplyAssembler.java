package io.ftpgate.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Collects server lines into replies, RFC 959 §4.2. A reply is either one line {@code NNN text}
 * (or {@code NNN} alone), or starts with {@code NNN-text} and runs until a line that starts with
 * the same {@code NNN } (or is exactly {@code NNN}); the lines in between are text, whatever they
 * look like, even if they start with another code. One instance per server connection; not
 * thread-safe (one session, one event loop).
 */
public final class ReplyAssembler {

    private final int maxLines;
    private final List<String> open = new ArrayList<>();
    private int openCode = -1;

    /** @param maxLines the most lines one reply may have, at least 1; bounds memory per session */
    public ReplyAssembler(int maxLines) {
        if (maxLines < 1) {
            throw new IllegalArgumentException("maxLines must be at least 1: " + maxLines);
        }
        this.maxLines = maxLines;
    }

    /**
     * Takes the next line (without CRLF).
     *
     * @return the complete reply, or empty while a multi-line reply is still open
     * @throws FtpParseException NOT_A_REPLY or OUT_OF_RANGE for a line that cannot start a reply,
     *                           TOO_MANY_LINES when the open reply passes the limit (it is dropped),
     *                           BAD_DELIMITER for a line with a stray CR or LF
     */
    public Optional<FtpReply> accept(String line) throws FtpParseException {
        if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
            reset();
            throw new FtpParseException(FtpParseException.Kind.BAD_DELIMITER,
                    "stray CR or LF inside a reply line: " + LogText.escape(line));
        }
        if (openCode < 0) {
            return start(line);
        }
        if (open.size() >= maxLines) {
            int code = openCode;
            reset();
            throw new FtpParseException(FtpParseException.Kind.TOO_MANY_LINES,
                    "reply " + code + " has more than " + maxLines + " lines");
        }
        open.add(line);
        if (isEndLine(line, openCode)) {
            FtpReply reply = new FtpReply(openCode, open);
            reset();
            return Optional.of(reply);
        }
        return Optional.empty();
    }

    /** True while a multi-line reply has started and not yet ended. */
    public boolean isOpen() {
        return openCode >= 0;
    }

    /** Forgets an open reply (e.g. when the connection ends). */
    public void reset() {
        open.clear();
        openCode = -1;
    }

    private Optional<FtpReply> start(String line) throws FtpParseException {
        boolean threeDigits = line.length() >= 3 && isDigit(line.charAt(0)) && isDigit(line.charAt(1))
                && isDigit(line.charAt(2));
        char after = line.length() > 3 ? line.charAt(3) : ' ';
        if (!threeDigits || after != ' ' && after != '-') {
            throw new FtpParseException(FtpParseException.Kind.NOT_A_REPLY,
                    "not the start of a reply (NNN text or NNN-text expected): " + LogText.escape(line));
        }
        int code = Integer.parseInt(line.substring(0, 3));
        if (code < 100 || code > 599) {
            throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE,
                    "reply code " + code + " is not in 100..599: " + LogText.escape(line));
        }
        if (after == ' ') {
            return Optional.of(new FtpReply(code, List.of(line)));
        }
        if (maxLines < 2) {
            throw new FtpParseException(FtpParseException.Kind.TOO_MANY_LINES,
                    "multi-line reply " + code + " but at most " + maxLines + " line allowed");
        }
        openCode = code;
        open.add(line);
        return Optional.empty();
    }

    private static boolean isEndLine(String line, int code) {
        String prefix = Integer.toString(code);
        return line.equals(prefix) || line.startsWith(prefix + " ");
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
