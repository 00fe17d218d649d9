package io.ftpgate.testing;

/** Where a client connects for its control session: an address literal and a port. */
public record FtpEndpoint(String host, int port) {

    public boolean ipv6() {
        return host.contains(":");
    }

    /** {@code host:port}, with brackets around an IPv6 literal, as URLs need it. */
    public String authority() {
        return (ipv6() ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return authority();
    }
}
