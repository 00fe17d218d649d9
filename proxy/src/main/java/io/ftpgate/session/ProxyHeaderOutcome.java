package io.ftpgate.session;

/** What became of a connection on a listener with the PROXY protocol (metric tag {@code outcome}). */
public enum ProxyHeaderOutcome {
    /** A header named the client: the session runs with its address. */
    PROXIED,
    /** LOCAL (v2) or UNKNOWN: the session runs with the proxy's own address, as the specification asks. */
    LOCAL,
    /** The peer is not in proxy-protocol.trusted: closed before anything was read or sent. */
    UNTRUSTED,
    /** Not a PROXY header, or a malformed one: closed, nothing sent. */
    INVALID,
    /** No complete header within proxy-protocol.header-timeout: closed, nothing sent. */
    TIMEOUT
}
