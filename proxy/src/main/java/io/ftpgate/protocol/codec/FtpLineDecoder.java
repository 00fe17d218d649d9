package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.LogText;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Frames the control connection into lines. RFC 959 runs the control connection as a Telnet NVT
 * (RFC 854), so Telnet commands are removed first: {@code IAC IAC} is one 0xFF data byte,
 * {@code IAC} + 240..250 (IP, DM, AYT...) is dropped, {@code IAC WILL/WONT/DO/DONT option} is
 * dropped (the gateway refuses every option by ignoring it, as most FTP servers do).
 *
 * <p>Emits {@code String} lines (bytes as ISO-8859-1 chars, line end stripped) or {@link LineError}s;
 * it never throws on input and never holds more than {@code maxLineLength} bytes of a line. Every
 * byte is consumed as it arrives, with the Telnet and CR states kept in fields, so any split of
 * the input gives the same output.
 *
 * <p><b>The TLS gate</b> (RFC 4217; the STARTTLS injection class, CVE-2011-0411). With a gate
 * set, the decoder stops after the first line the gate matches (the client's {@code AUTH}, or the
 * server's {@code 234}): it emits that line and decodes nothing more, so that bytes sent after it in
 * clear are never taken for commands or replies. The session then asks {@link #pendingBytes()}:
 * anything there arrived in clear after the line, which a client or server that waits for the
 * answer (or for the handshake) never sends, so it is an injection. Once TLS is in place in front
 * of the decoder, or the AUTH was refused, {@link #ungate} lets it go on.
 */
public final class FtpLineDecoder extends ByteToMessageDecoder {

    private static final int IAC = 0xff;
    private static final int CR = '\r';
    private static final int LF = '\n';

    private enum Telnet { DATA, AFTER_IAC, OPTION }

    private final int maxLineLength;
    private final boolean strictCrlf;

    private byte[] line = new byte[64];
    private int length;
    private Telnet telnet = Telnet.DATA;
    private boolean pendingCr;
    private boolean sawNul;
    private boolean discarding;
    private java.util.function.Predicate<String> gate;
    private boolean gated;

    /**
     * @param maxLineLength the most bytes a line may have, without its line end
     * @param strictCrlf    true: a line must end with CRLF (RFC 959 §4.1.3), a bare LF is an error;
     *                      false: LF alone also ends a line, a CR before it is dropped
     */
    public FtpLineDecoder(int maxLineLength, boolean strictCrlf) {
        if (maxLineLength < 1) {
            throw new IllegalArgumentException("maxLineLength must be positive: " + maxLineLength);
        }
        this.maxLineLength = maxLineLength;
        this.strictCrlf = strictCrlf;
    }

    /** Stops decoding after the next line {@code matches} accepts (see the class comment); null: never. */
    public void gate(java.util.function.Predicate<String> matches) {
        this.gate = matches;
    }

    /** Whether the gate closed: a matching line was emitted and nothing after it was decoded. */
    public boolean isGated() {
        return gated;
    }

    /**
     * Bytes received but not decoded into a line: a partial line, and, while gated, everything
     * that came after the gated line.
     */
    public int pendingBytes() {
        return internalBuffer().readableBytes() + length + (pendingCr ? 1 : 0) + (telnet == Telnet.DATA ? 0 : 1);
    }

    /**
     * Opens the gate again; what was held back (only on a refused AUTH: TLS, once in place, sees
     * the bytes first) is decoded now.
     */
    public void ungate(io.netty.channel.Channel channel) {
        gated = false;
        if (internalBuffer().isReadable()) {
            // Decode what was held back now: nothing else would wake the decoder up.
            channel.pipeline().fireChannelRead(io.netty.buffer.Unpooled.EMPTY_BUFFER);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable() && !gated) {
            int b = in.readUnsignedByte();
            switch (telnet) {
                case DATA -> {
                    if (b == IAC) {
                        telnet = Telnet.AFTER_IAC;
                    } else {
                        data(b, out);
                    }
                }
                case AFTER_IAC -> {
                    if (b == IAC) {
                        telnet = Telnet.DATA;
                        data(IAC, out);
                    } else if (b >= 251) {
                        telnet = Telnet.OPTION;
                    } else {
                        // 240..250 are commands without an option byte; anything lower is not a
                        // Telnet command (RFC 854), so the lone IAC is dropped and the byte kept.
                        telnet = Telnet.DATA;
                        if (b < 240) {
                            data(b, out);
                        }
                    }
                }
                case OPTION -> telnet = Telnet.DATA;
            }
        }
    }

    private void data(int b, List<Object> out) {
        if (b == LF) {
            endOfLine(out);
            return;
        }
        if (pendingCr) {
            // A CR not followed by LF is text; the parsers refuse it later with a reason.
            pendingCr = false;
            append(CR, out);
        }
        if (b == CR) {
            pendingCr = true;
        } else {
            append(b, out);
        }
    }

    private void append(int b, List<Object> out) {
        if (discarding) {
            return;
        }
        if (length == maxLineLength) {
            out.add(new LineError(LineError.Kind.TOO_LONG, "line longer than " + maxLineLength
                    + " bytes, starting " + LogText.escapeLine(text(Math.min(length, 40)))));
            discarding = true;
            length = 0;
            return;
        }
        if (b == 0) {
            sawNul = true;
        }
        if (length == line.length) {
            line = Arrays.copyOf(line, Math.min(maxLineLength, line.length * 2));
        }
        line[length++] = (byte) b;
    }

    private void endOfLine(List<Object> out) {
        boolean crlf = pendingCr;
        pendingCr = false;
        if (discarding) {
            discarding = false;
        } else if (strictCrlf && !crlf) {
            out.add(new LineError(LineError.Kind.BARE_LF, "line ends with LF, not CRLF: " + LogText.escapeLine(text(length))));
        } else if (sawNul) {
            out.add(new LineError(LineError.Kind.NUL, "line contains NUL: " + LogText.escapeLine(text(length))));
        } else {
            String text = text(length);
            out.add(text);
            if (gate != null && gate.test(text)) {
                gated = true;
            }
        }
        length = 0;
        sawNul = false;
    }

    private String text(int count) {
        return new String(line, 0, count, StandardCharsets.ISO_8859_1);
    }
}
