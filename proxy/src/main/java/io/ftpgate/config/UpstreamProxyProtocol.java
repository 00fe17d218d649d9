package io.ftpgate.config;

/**
 * Whether, and in which version, the gateway starts its control connection to an FTP server with a
 * PROXY protocol header (HAProxy's specification, v1 text or v2 binary) naming the session's client,
 * so that a server that reads one (ProFTPD with mod_proxy_protocol, HAProxy {@code accept-proxy}
 * in front of any server) logs and limits by the real client. Data connections never carry one:
 * FTP servers read no header on their data ports.
 */
public enum UpstreamProxyProtocol {
    /** Nothing is sent: the server sees the gateway's address. */
    OFF,
    /** {@code PROXY TCP4 client gateway cport gport\r\n}. */
    V1,
    /** The binary form (12-byte signature, PROXY command, TCP over IPv4 or IPv6). */
    V2
}
