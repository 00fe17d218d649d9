package io.ftpgate.protocol;

import java.util.Objects;

/**
 * A line from the wire that does not mean what the protocol says it must. The {@link Kind} lets a
 * caller pick a reply or a metric tag; the message is for a person (a log line or a 501 text) and
 * never contains raw control bytes (see {@link LogText}).
 */
public final class FtpParseException extends Exception {

    /** Why the input was refused; one kind per distinct failure so callers need no string matching. */
    public enum Kind {
        /** nothing to parse */
        EMPTY,
        /** a command verb that is not 3 or 4 ASCII letters (RFC 959 §5.3.1) */
        BAD_VERB,
        /** a field that should be a decimal number is not one */
        BAD_NUMBER,
        /** a number outside its range (byte 0..255, port 1..65535, reply code 100..599) */
        OUT_OF_RANGE,
        /** an address that is not a literal of the required family (never resolved by DNS) */
        BAD_ADDRESS,
        /** an EPRT network protocol other than 1 (IPv4) or 2 (IPv6) (RFC 2428 §2) */
        UNSUPPORTED_PROTOCOL,
        /** a delimiter outside ASCII 33..126, mismatched delimiters, or a stray CR in a line */
        BAD_DELIMITER,
        /** fewer (or more) fields than the form has */
        MISSING_FIELD,
        /** a server line that does not start a reply (RFC 959 §4.2) */
        NOT_A_REPLY,
        /** a multi-line reply longer than the configured limit */
        TOO_MANY_LINES,
        /** a reply code that is not the one expected */
        CODE_MISMATCH
    }

    private final Kind kind;

    public FtpParseException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
