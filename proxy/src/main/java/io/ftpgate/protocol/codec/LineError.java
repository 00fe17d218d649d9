package io.ftpgate.protocol.codec;

import java.util.Objects;

/**
 * A line the framer refused, passed down the pipeline instead of an exception so the session can
 * answer (500) or end with a reason.
 *
 * @param detail for a log line; already free of control bytes
 */
public record LineError(Kind kind, String detail) {

    public enum Kind {
        /** longer than the limit; the rest up to the next LF was discarded */
        TOO_LONG,
        /** contained a NUL byte, which RFC 854 NVT text never carries inside a command */
        NUL,
        /** ended with LF alone while CRLF is required (RFC 959 §4.1.3, §4.2) */
        BARE_LF
    }

    public LineError {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(detail, "detail");
    }
}
