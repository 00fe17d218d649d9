package io.ftpgate.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * A host and port as written in the configuration: {@code 192.0.2.1:21}, {@code [2001:db8::1]:21}
 * or {@code ftp.example.net:21}. IP literals are parsed without any name lookup.
 */
public record Endpoint(String host, int port) {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[\\w.-]+)?");
    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");

    /** Parses {@code HOST:PORT}; the message of the exception says what is wrong. */
    public static Endpoint parse(String text) {
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + text + "' is not [IPV6]:PORT");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (!IPV6.matcher(host).matches() || !host.contains(":")) {
                throw new IllegalArgumentException("'" + host + "' is not an IPv6 address");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "' is not HOST:PORT (write IPv6 as [ADDR]:PORT)");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (!IPV4.matcher(host).matches() && !HOSTNAME.matcher(host).matches()) {
                throw new IllegalArgumentException("'" + host + "' is not an address or host name");
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + port + "' is not a port number");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port " + p + " is not in 0..65535");
        }
        return new Endpoint(host, p);
    }

    public boolean isLiteral() {
        return IPV4.matcher(host).matches() || host.contains(":");
    }

    /** The address of a literal endpoint; a host name is left unresolved (resolved when used). */
    public InetSocketAddress toSocketAddress() {
        if (!isLiteral()) {
            return InetSocketAddress.createUnresolved(host, port);
        }
        try {
            // A literal never causes a lookup (checked by the patterns above).
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + host + "' is not a valid address");
        }
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
