package io.ftpgate.data;

/**
 * What became of a connection that had to start with a PROXY protocol header, on a control listener
 * or a data listener (metric tag {@code outcome}).
 */
public enum ProxyHeaderOutcome {
    /**
     * A header named a client: a session runs with its address; a data connection's is then
     * matched against its session's client (a mismatch is refused as a foreign data peer).
     */
    PROXIED,
    /**
     * LOCAL (v2) or UNKNOWN: a session runs with the proxy's own address, as the specification
     * asks; a data connection names no client, so it is refused.
     */
    LOCAL,
    /** The peer is not in proxy-protocol.trusted: closed before anything was read or sent. */
    UNTRUSTED,
    /** Not a PROXY header, or a malformed one: closed, nothing sent. */
    INVALID,
    /** No complete header within proxy-protocol.header-timeout: closed, nothing sent. */
    TIMEOUT
}
