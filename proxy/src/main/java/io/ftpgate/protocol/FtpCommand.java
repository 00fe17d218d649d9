package io.ftpgate.protocol;

import java.util.Locale;
import java.util.Objects;

/**
 * One command line from a client, RFC 959 §5.3: a verb and its raw argument. The argument is kept
 * exactly as received after the single space that separates it from the verb (internal and
 * trailing spaces included, bytes as ISO-8859-1 chars), so a path round-trips unchanged.
 *
 * @param verb     3 or 4 ASCII letters, upper case
 * @param argument never null; {@code ""} when absent; never contains CR or LF (one command is one line)
 */
public record FtpCommand(String verb, String argument) {

    public FtpCommand {
        Objects.requireNonNull(verb, "verb");
        argument = argument == null ? "" : argument;
        if (!isVerb(verb)) {
            throw new IllegalArgumentException("verb must be 3 or 4 ASCII letters: " + LogText.escape(verb));
        }
        verb = verb.toUpperCase(Locale.ROOT);
        if (argument.indexOf('\r') >= 0 || argument.indexOf('\n') >= 0) {
            // Forwarding a CR or LF would let one client line become two upstream commands.
            throw new IllegalArgumentException("argument contains CR or LF: " + LogText.escape(argument));
        }
    }

    public static FtpCommand of(String verb, String argument) {
        return new FtpCommand(verb, argument);
    }

    /**
     * Parses a line without its CRLF. RFC 959 §5.3.1: the verb is 3 or 4 alphabetic characters in
     * any case, separated from the argument by one space ({@code <SP>}); anything after that space
     * is the argument, untouched.
     */
    public static FtpCommand parse(String line) throws FtpParseException {
        if (line == null || line.isBlank()) {
            throw new FtpParseException(FtpParseException.Kind.EMPTY, "empty command line");
        }
        int space = line.indexOf(' ');
        String verb = space < 0 ? line : line.substring(0, space);
        String argument = space < 0 ? "" : line.substring(space + 1);
        if (!isVerb(verb)) {
            throw new FtpParseException(FtpParseException.Kind.BAD_VERB,
                    "not a command verb (3 or 4 letters expected): " + LogText.escape(verb));
        }
        if (argument.indexOf('\r') >= 0 || argument.indexOf('\n') >= 0) {
            // RFC 959 §4.1.3 ends a command with CRLF only; a stray CR could split it upstream.
            throw new FtpParseException(FtpParseException.Kind.BAD_DELIMITER,
                    "stray CR or LF inside the command line: " + LogText.escape(line));
        }
        return new FtpCommand(verb, argument);
    }

    private static boolean isVerb(String verb) {
        if (verb.length() < 3 || verb.length() > 4) {
            return false;
        }
        for (int i = 0; i < verb.length(); i++) {
            char c = verb.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
    }

    public boolean is(String otherVerb) {
        return verb.equalsIgnoreCase(otherVerb);
    }

    /** The line as sent on the wire, without CRLF. */
    public String toLine() {
        return argument.isEmpty() ? verb : verb + " " + argument;
    }

    /** The line for a log: the password of {@code PASS} masked, control bytes escaped. */
    public String toLogString() {
        return LogText.escapeLine(toLine());
    }

    @Override
    public String toString() {
        return toLogString();
    }
}
