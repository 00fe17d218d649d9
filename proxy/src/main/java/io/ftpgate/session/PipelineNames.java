package io.ftpgate.session;

/**
 * The names of the control legs' pipeline entries, in pipeline order. Stages added later (TLS goes
 * before {@link #FRAME}) are placed by these names rather than by position.
 */
final class PipelineNames {
    /** Listeners with the PROXY protocol: Netty's header decoder, then the handler that waits for it. */
    static final String PROXY_DECODE = "proxy-decode";
    static final String PROXY = "proxy";
    /** Server leg with upstream-proxy-protocol: the header's encoder and the handler that sends it, until sent. */
    static final String PROXY_SEND_ENCODE = "proxy-send-encode";
    static final String PROXY_SEND = "proxy-send";
    /** Client leg only: the control connection's idle timer. */
    static final String IDLE = "idle";
    /** TLS (AUTH TLS puts it here, implicit FTPS from the start): before the framing. */
    static final String TLS = "tls";
    /** Line framing: Telnet NVT, CRLF, length limit. */
    static final String FRAME = "frame";
    /** Commands (client leg) or replies (server leg) from lines. */
    static final String DECODE = "decode";
    static final String ENCODE = "encode";
    /** The adapter that hands messages to the {@link ControlSession}. */
    static final String SESSION = "session";

    private PipelineNames() {}
}
