package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpParseException;

import java.util.Objects;

/**
 * A client line that is not a command; the session answers it (RFC 959 §4.2: 500 or 501).
 *
 * @param escapedLine the line, control bytes escaped and a PASS argument masked, for logs
 */
public record BadCommand(String escapedLine, FtpParseException error) {
    public BadCommand {
        Objects.requireNonNull(escapedLine, "escapedLine");
        Objects.requireNonNull(error, "error");
    }
}
