package io.ftpgate.protocol;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The IPv4 address and port of a PORT argument or a 227 reply, RFC 959 §4.1.2 and §4.2:
 * {@code h1,h2,h3,h4,p1,p2}, six decimal bytes, port = p1 * 256 + p2.
 *
 * @param port 1..65535
 */
public record HostPort(Inet4Address address, int port) {

    public HostPort {
        Objects.requireNonNull(address, "address");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 1..65535");
        }
    }

    /**
     * Parses a PORT argument strictly: exactly six comma-separated decimal numbers 0..255, spaces
     * around each tolerated. A client that sends anything else gets a 501 rather than a guess.
     */
    public static HostPort parsePortArgument(String arg) throws FtpParseException {
        if (arg == null || arg.isBlank()) {
            throw new FtpParseException(FtpParseException.Kind.EMPTY, "PORT needs h1,h2,h3,h4,p1,p2");
        }
        String[] fields = arg.split(",", -1);
        if (fields.length != 6) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "PORT takes six comma-separated numbers, got " + fields.length + ": " + LogText.escape(arg));
        }
        int[] bytes = new int[6];
        for (int i = 0; i < 6; i++) {
            String field = fields[i].strip();
            if (field.isEmpty()) {
                throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                        "PORT field " + (i + 1) + " is empty: " + LogText.escape(arg));
            }
            bytes[i] = parseByte(field, arg);
        }
        return fromBytes(bytes, arg);
    }

    /**
     * Finds a host-port in a 227 reply text the way real clients do (Commons Net, curl): the first
     * run of six comma-separated numbers anywhere, with or without parentheses, after {@code =},
     * followed by a dot or anything else. RFC 959 §4.1.2 gives no exact format for the 227 text.
     */
    public static HostPort parsePassiveReply(String replyText) throws FtpParseException {
        Objects.requireNonNull(replyText, "replyText");
        FtpParseException outOfRange = null;
        for (int i = 0; i < replyText.length(); i++) {
            if (!isDigit(replyText.charAt(i)) || i > 0 && isDigit(replyText.charAt(i - 1))) {
                continue;
            }
            int[] bytes = new NumberRun(replyText, i).sixNumbers();
            if (bytes == null) {
                continue;
            }
            try {
                return fromBytes(bytes, replyText);
            } catch (FtpParseException e) {
                if (outOfRange == null) {
                    outOfRange = e;
                }
            }
        }
        if (outOfRange != null) {
            throw outOfRange;
        }
        throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                "no h1,h2,h3,h4,p1,p2 in the passive reply: " + LogText.escape(replyText));
    }

    /** {@code h1,h2,h3,h4,p1,p2} for a PORT command. */
    public String toPortArgument() {
        byte[] a = address.getAddress();
        return (a[0] & 0xff) + "," + (a[1] & 0xff) + "," + (a[2] & 0xff) + "," + (a[3] & 0xff)
                + "," + (port >> 8) + "," + (port & 0xff);
    }

    /** The text of a 227 reply, in the form most clients expect. */
    public String toPassiveReplyText() {
        return "Entering Passive Mode (" + toPortArgument() + ").";
    }

    private static HostPort fromBytes(int[] b, String input) throws FtpParseException {
        for (int value : b) {
            if (value > 255) {
                throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE,
                        "each number must be 0..255: " + LogText.escape(input));
            }
        }
        int port = b[4] * 256 + b[5];
        if (port == 0) {
            throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE, "port 0 is not a port: "
                    + LogText.escape(input));
        }
        return new HostPort(ipv4(b[0], b[1], b[2], b[3]), port);
    }

    /** Builds the address from its bytes; InetAddress.getByAddress never asks DNS. */
    static Inet4Address ipv4(int a, int b, int c, int d) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an address", e);
        }
    }

    /** A decimal number, saturated above 255 so that huge inputs cannot overflow. */
    private static int parseByte(String field, String arg) throws FtpParseException {
        int value = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (!isDigit(c)) {
                throw new FtpParseException(FtpParseException.Kind.BAD_NUMBER,
                        "not a decimal number: " + LogText.escape(field) + " in " + LogText.escape(arg));
            }
            value = Math.min(value * 10 + (c - '0'), 256);
        }
        if (value > 255) {
            throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE,
                    "each number must be 0..255, got " + LogText.escape(field));
        }
        return value;
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Reads {@code n , n , n , n , n , n} (spaces around commas allowed) from a position. */
    private static final class NumberRun {
        private final String text;
        private int pos;

        NumberRun(String text, int start) {
            this.text = text;
            this.pos = start;
        }

        int[] sixNumbers() {
            int[] values = new int[6];
            for (int i = 0; i < 6; i++) {
                if (i > 0) {
                    skipSpaces();
                    if (pos >= text.length() || text.charAt(pos) != ',') {
                        return null;
                    }
                    pos++;
                    skipSpaces();
                }
                if (pos >= text.length() || !isDigit(text.charAt(pos))) {
                    return null;
                }
                int value = 0;
                while (pos < text.length() && isDigit(text.charAt(pos))) {
                    value = Math.min(value * 10 + (text.charAt(pos) - '0'), 256);
                    pos++;
                }
                values[i] = value;
            }
            return values;
        }

        private void skipSpaces() {
            while (pos < text.length() && text.charAt(pos) == ' ') {
                pos++;
            }
        }
    }
}
