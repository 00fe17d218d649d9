package io.ftpgate.testing;

/**
 * Where a client connects for its control session: an address literal and a port, and the user
 * it logs in as ({@link #ANONYMOUS} unless a forward-mode gateway needs {@code anonymous@host}).
 */
public record FtpEndpoint(String host, int port, String user) {

    public static final String ANONYMOUS = "anonymous";

    public FtpEndpoint(String host, int port) {
        this(host, port, ANONYMOUS);
    }

    /** The same endpoint, logging in as {@code user}. */
    public FtpEndpoint as(String user) {
        return new FtpEndpoint(host, port, user);
    }

    public boolean ipv6() {
        return host.contains(":");
    }

    /** {@code host:port}, with brackets around an IPv6 literal, as URLs need it. */
    public String authority() {
        return (ipv6() ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return user.equals(ANONYMOUS) ? authority() : user + " at " + authority();
    }
}
