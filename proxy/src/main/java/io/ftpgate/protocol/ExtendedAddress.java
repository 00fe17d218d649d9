package io.ftpgate.protocol;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The address and port of an EPRT argument, RFC 2428 §2: {@code <d>proto<d>addr<d>port<d>} with
 * proto 1 (IPv4 dotted quad) or 2 (IPv6 literal). Also the 229 reply of EPSV (§3), which carries a
 * port only. Addresses are literals, checked here; a host name is refused, never resolved, so a
 * client cannot make the gateway ask DNS.
 *
 * @param port 1..65535
 */
public record ExtendedAddress(InetAddress address, int port) {

    public ExtendedAddress {
        Objects.requireNonNull(address, "address");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 1..65535");
        }
    }

    /** Parses {@code <d>proto<d>addr<d>port<d>}; the delimiter is any ASCII 33..126 (§2). */
    public static ExtendedAddress parseEprtArgument(String arg) throws FtpParseException {
        if (arg == null || arg.isEmpty()) {
            throw new FtpParseException(FtpParseException.Kind.EMPTY, "EPRT needs |proto|address|port|");
        }
        char d = arg.charAt(0);
        if (d < 33 || d > 126) {
            throw new FtpParseException(FtpParseException.Kind.BAD_DELIMITER,
                    "EPRT delimiter must be a printable ASCII character: " + LogText.escape(arg));
        }
        if (arg.length() < 2 || arg.charAt(arg.length() - 1) != d) {
            throw new FtpParseException(FtpParseException.Kind.BAD_DELIMITER,
                    "EPRT argument must end with its delimiter " + d + ": " + LogText.escape(arg));
        }
        String[] fields = arg.substring(1, arg.length() - 1).split(java.util.regex.Pattern.quote(String.valueOf(d)), -1);
        if (fields.length != 3) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "EPRT takes three fields (proto, address, port): " + LogText.escape(arg));
        }
        String proto = fields[0];
        String addr = fields[1];
        if (proto.isEmpty() || addr.isEmpty() || fields[2].isEmpty()) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "EPRT field is empty: " + LogText.escape(arg));
        }
        InetAddress address = switch (proto) {
            case "1" -> parseIpv4(addr);
            case "2" -> parseIpv6(addr);
            default -> throw new FtpParseException(FtpParseException.Kind.UNSUPPORTED_PROTOCOL,
                    "EPRT network protocol must be 1 (IPv4) or 2 (IPv6): " + LogText.escape(proto));
        };
        return new ExtendedAddress(address, parsePort(fields[2], arg));
    }

    /**
     * The port of a 229 reply text, in exactly RFC 2428 §3's form: one {@code (<d><d><d>port<d>)}
     * in the text, the four delimiters the same printable character (ASCII 33..126, not a digit),
     * the port a decimal number of 1..65535 without leading zeros. Anything else, a second
     * parenthesised group, leading zeros ({@code (|||0000022|)}), spaces, is refused: a server that
     * means a port has no reason to write it any other way, and each looser reading is a way to slip
     * a port past a check.
     */
    public static int parseExtendedPassiveReply(String replyText) throws FtpParseException {
        Objects.requireNonNull(replyText, "replyText");
        int open = replyText.indexOf('(');
        int close = open < 0 ? -1 : replyText.indexOf(')', open);
        if (open < 0 || close < 0) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "no (|||port|) in the extended passive reply: " + LogText.escape(replyText));
        }
        if (replyText.indexOf('(', open + 1) >= 0 || replyText.indexOf(')', close + 1) >= 0
                || replyText.lastIndexOf(')', open) >= 0) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "more than one parenthesised group in the extended passive reply: " + LogText.escape(replyText));
        }
        String inner = replyText.substring(open + 1, close);
        if (inner.length() < 5) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD,
                    "no (|||port|) in the extended passive reply: " + LogText.escape(replyText));
        }
        char d = inner.charAt(0);
        if (d < 33 || d > 126 || HostPort.isDigit(d) || inner.charAt(1) != d || inner.charAt(2) != d
                || inner.charAt(inner.length() - 1) != d) {
            throw new FtpParseException(FtpParseException.Kind.BAD_DELIMITER,
                    "the extended passive reply's delimiters are not (<d><d><d>port<d>): " + LogText.escape(replyText));
        }
        String port = inner.substring(3, inner.length() - 1);
        if (port.length() > 1 && port.charAt(0) == '0') {
            throw new FtpParseException(FtpParseException.Kind.BAD_NUMBER,
                    "port with leading zeros: " + LogText.escape(port));
        }
        return parsePort(port, replyText);
    }

    /** The text of a 229 reply, RFC 2428 §3. */
    public static String extendedPassiveReplyText(int port) {
        return "Entering Extended Passive Mode (|||" + port + "|)";
    }

    /** {@code |1|a.b.c.d|port|} or {@code |2|v6|port|}. */
    public String toEprtArgument() {
        if (address instanceof Inet4Address) {
            return "|1|" + address.getHostAddress() + "|" + port + "|";
        }
        String v6 = address.getHostAddress();
        int scope = v6.indexOf('%');
        return "|2|" + (scope < 0 ? v6 : v6.substring(0, scope)) + "|" + port + "|";
    }

    private static Inet4Address parseIpv4(String addr) throws FtpParseException {
        int[] b = dottedQuad(addr);
        return HostPort.ipv4(b[0], b[1], b[2], b[3]);
    }

    /** Four decimal numbers 0..255 of one to three digits, dot-separated; nothing else (no 0x, no 2130706433). */
    private static int[] dottedQuad(String addr) throws FtpParseException {
        String[] parts = addr.split("\\.", -1);
        if (parts.length != 4) {
            throw badAddress("an IPv4 dotted quad", addr);
        }
        int[] b = new int[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> HostPort.isDigit((char) c))) {
                throw badAddress("an IPv4 dotted quad", addr);
            }
            b[i] = Integer.parseInt(part);
            if (b[i] > 255) {
                throw badAddress("an IPv4 dotted quad", addr);
            }
        }
        return b;
    }

    /**
     * An IPv6 literal in the text forms of RFC 4291 §2.2: eight groups of one to four hex digits,
     * one {@code ::} standing for one or more zero groups, optionally ending in a dotted quad.
     * Parsed here rather than by {@code InetAddress.getByName}, which falls back to a DNS lookup
     * for some strings that are not literals. Zone ids ({@code %eth0}) name local interfaces, not
     * peers, and are refused. An IPv4-mapped literal comes back as an {@link Inet4Address}.
     */
    private static InetAddress parseIpv6(String addr) throws FtpParseException {
        String hex = addr;
        if (addr.indexOf('.') >= 0) {
            int lastColon = addr.lastIndexOf(':');
            if (lastColon < 0) {
                throw badAddress("an IPv6 literal", addr);
            }
            int[] q = dottedQuad(addr.substring(lastColon + 1));
            hex = addr.substring(0, lastColon + 1) + Integer.toHexString(q[0] << 8 | q[1]) + ":"
                    + Integer.toHexString(q[2] << 8 | q[3]);
        }
        int gap = hex.indexOf("::");
        if (gap != hex.lastIndexOf("::")) {
            throw badAddress("an IPv6 literal", addr);
        }
        int[] head = hexGroups(gap < 0 ? hex : hex.substring(0, gap), addr);
        int[] tail = gap < 0 ? new int[0] : hexGroups(hex.substring(gap + 2), addr);
        int count = head.length + tail.length;
        if (gap < 0 ? count != 8 : count > 7) {
            throw badAddress("an IPv6 literal", addr);
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < head.length; i++) {
            bytes[2 * i] = (byte) (head[i] >> 8);
            bytes[2 * i + 1] = (byte) head[i];
        }
        for (int i = 0; i < tail.length; i++) {
            int at = 16 - 2 * (tail.length - i);
            bytes[at] = (byte) (tail[i] >> 8);
            bytes[at + 1] = (byte) tail[i];
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("sixteen bytes are always an address", e);
        }
    }

    /** Colon-separated groups of 1..4 hex digits; "" is no groups. */
    private static int[] hexGroups(String groups, String addr) throws FtpParseException {
        if (groups.isEmpty()) {
            return new int[0];
        }
        String[] parts = groups.split(":", -1);
        int[] values = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 4 || !part.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 0x80)) {
                throw badAddress("an IPv6 literal", addr);
            }
            values[i] = Integer.parseInt(part, 16);
        }
        return values;
    }

    private static int parsePort(String field, String input) throws FtpParseException {
        if (field.isEmpty()) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD, "port is missing: "
                    + LogText.escape(input));
        }
        long value = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (!HostPort.isDigit(c)) {
                throw new FtpParseException(FtpParseException.Kind.BAD_NUMBER,
                        "port is not a decimal number: " + LogText.escape(field));
            }
            value = Math.min(value * 10 + (c - '0'), 65536);
        }
        if (value < 1 || value > 65535) {
            throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE,
                    "port must be 1..65535: " + LogText.escape(field));
        }
        return (int) value;
    }

    private static FtpParseException badAddress(String expected, String addr) {
        return new FtpParseException(FtpParseException.Kind.BAD_ADDRESS,
                "EPRT address must be " + expected + " (names are not resolved): " + LogText.escape(addr));
    }
}
