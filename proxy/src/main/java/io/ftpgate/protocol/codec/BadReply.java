package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpParseException;

import java.util.Objects;

/**
 * A server line that does not fit a reply; the session decides whether the server is still usable.
 *
 * @param escapedLine the line, control bytes escaped, for logs
 */
public record BadReply(String escapedLine, FtpParseException error) {
    public BadReply {
        Objects.requireNonNull(escapedLine, "escapedLine");
        Objects.requireNonNull(error, "error");
    }
}
