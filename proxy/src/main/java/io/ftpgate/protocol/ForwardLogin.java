package io.ftpgate.protocol;

/**
 * The argument of a forward-mode {@code USER name@host[:port]}: the user name to log in with and
 * the FTP server to reach (an IPv6 literal in brackets, {@code USER anonymous@[2001:db8::2]:2121}).
 * The last {@code @} separates them, so user names may contain {@code @} themselves. The host is
 * returned as written (no lookup here); the port defaults to 21.
 */
public record ForwardLogin(String user, String host, int port) {

    /** Parses the argument of USER; the exception's kind says what is missing. */
    public static ForwardLogin parse(String argument) throws FtpParseException {
        String arg = argument.trim();
        int at = arg.lastIndexOf('@');
        if (at <= 0 || at == arg.length() - 1) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD, "USER needs name@host");
        }
        String user = arg.substring(0, at);
        String dest = arg.substring(at + 1);
        String host;
        String port = null;
        if (dest.startsWith("[")) {
            int close = dest.indexOf(']');
            if (close < 0) {
                throw new FtpParseException(FtpParseException.Kind.BAD_ADDRESS, "unclosed [ in the host");
            }
            host = dest.substring(1, close);
            String rest = dest.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new FtpParseException(FtpParseException.Kind.BAD_ADDRESS, "text after ]");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = dest.indexOf(':');
            if (colon >= 0) {
                if (dest.indexOf(':', colon + 1) >= 0) {
                    throw new FtpParseException(FtpParseException.Kind.BAD_ADDRESS, "write IPv6 hosts in brackets");
                }
                host = dest.substring(0, colon);
                port = dest.substring(colon + 1);
            } else {
                host = dest;
            }
        }
        if (host.isEmpty()) {
            throw new FtpParseException(FtpParseException.Kind.MISSING_FIELD, "no host after @");
        }
        int p = 21;
        if (port != null) {
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new FtpParseException(FtpParseException.Kind.BAD_NUMBER, "the port is not a number");
            }
            p = Integer.parseInt(port);
            if (p < 1 || p > 65535) {
                throw new FtpParseException(FtpParseException.Kind.OUT_OF_RANGE, "port " + p + " is not in 1..65535");
            }
        }
        return new ForwardLogin(user, host, p);
    }

    /** {@code host:port} as the configuration writes endpoints (IPv6 in brackets). */
    public String endpointText() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
