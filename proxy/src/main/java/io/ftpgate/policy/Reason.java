package io.ftpgate.policy;

/**
 * Why ftpgate refused or cancelled something. One value feeds the FTP reply the user sees, the log
 * line and the metric label, so the three never disagree.
 */
public enum Reason {
    /** PORT/EPRT named another host than the client's own (RFC 2577 §3, FTP bounce). */
    BOUNCE(504, "Refused: the data address must be your own address (%s)"),
    /** PORT/EPRT named a port below 1024 (RFC 2577 §3). */
    PRIVILEGED_PORT(504, "Refused: the data port must be 1024 or higher"),
    /** PORT/EPRT whose address family differs from the control connection's. */
    FAMILY_MISMATCH(522, "Network protocol not supported, use (%s)"),
    /** PASV asked over IPv6, where a 227 reply cannot say the address. */
    PASV_OVER_IPV6(425, "Use EPSV: PASV cannot announce an IPv6 address"),
    /** PORT/PASV/EPRT after EPSV ALL (RFC 2428 §4). */
    AFTER_EPSV_ALL(503, "Only EPSV is allowed after EPSV ALL"),
    /** LPRT/LPSV (RFC 1639) are not carried. */
    LONG_ADDRESS(502, "LPRT/LPSV are not supported; use EPRT/EPSV"),
    /** AUTH on a listener without TLS. */
    TLS_UNSUPPORTED(502, "AUTH is not supported by this gateway"),
    /** USER/PASS before AUTH TLS on a listener whose TLS is required (vsftpd's wording). */
    TLS_REQUIRED(530, "Non-anonymous sessions must use encryption: use AUTH TLS first"),
    /** Bytes in clear after AUTH, before TLS (the STARTTLS injection class, CVE-2011-0411). */
    TLS_INJECTION(0, "Bytes after AUTH before TLS: closed"),
    /** A TLS handshake failed (control or data connection, either leg). */
    TLS_HANDSHAKE_FAILED(425, "Can't open data connection: TLS handshake failed"),
    /** A client's TLS data connection did not resume its control connection's session (reuse required). */
    TLS_NOT_RESUMED(522, "SSL connection failed: session reuse required"),
    /** A TLS data connection ended without close_notify: the transfer may be truncated. */
    TLS_TRUNCATED(426, "Connection closed; transfer aborted: the data connection ended without TLS close_notify"),
    /** A transfer with PROT C where the listener allows only protected data. */
    PROT_REQUIRED(522, "Data connections must be encrypted: use PROT P"),
    /** The gateway could not secure its connection to the FTP server as its policy asks. */
    UPSTREAM_TLS_FAILED(421, "Service not available: cannot secure the connection to the FTP server (%s)"),
    /** A data connection came from another address than the negotiated peer. */
    WRONG_PEER(0, "Data connection from an unexpected address"),
    /** The negotiated data connection was not made in time. */
    DEADLINE(425, "Data connection was not made in time"),
    /** The firewall could not open the port. */
    FIREWALL_FAILED(425, "Can't open data connection: the gateway's firewall refused (see its log)"),
    /** No port of the data range could be bound. */
    NO_PORT(425, "Can't open data connection: no free port on the gateway"),
    /** A data connection to a peer failed. */
    CONNECT_FAILED(425, "Can't open data connection: %s"),
    /** A data connection was reset by one of its peers: the transfer is incomplete. */
    DATA_RESET(426, "Connection closed; transfer aborted: a data connection was reset"),
    /** A data negotiation (PASV, EPSV, PORT, EPRT) was cancelled (ABOR) before the client was answered. */
    NEGOTIATION_CANCELLED(425, "Can't open data connection: the negotiation was cancelled"),
    /** The gateway's work for a command ended without a reply for the client (a fault of the gateway). */
    /** The server answered the transfer command with a failure (425, 426, 522, 550…); its own reply goes to the client. */
    SERVER_REFUSED(0, "The FTP server refused the transfer (%s)"),
    NO_ANSWER(451, "Requested action aborted: the gateway could not complete it"),
    /** No byte moved on a data connection for data.idle-timeout: both legs are reset. */
    DATA_IDLE(426, "Connection closed; transfer aborted: %s"),
    /** An asynchronous step of the session failed inside the gateway (a bug): the session ends. */
    INTERNAL_ERROR(421, "Service not available: internal error in the gateway (session %s, see its log)"),
    /** A transfer command without a usable PORT/PASV before it. */
    NO_DATA_CONNECTION(425, "Use PORT, EPRT, PASV or EPSV first"),
    /** The server a transparent or forward session wants is not allowed (destinations). */
    DESTINATION_DENIED(421, "the gateway does not allow connections to that server"),
    /** The server a session wants is the gateway itself (a loop). */
    DESTINATION_LOOP(421, "the gateway will not connect to itself"),
    /** A forward-mode login without a server: USER name@host[:port] is needed. */
    NO_DESTINATION(530, "Log in as USER name@host[:port] to name the FTP server"),
    /** The server a forward-mode client named could not be resolved. */
    UNKNOWN_HOST(530, "Unknown FTP server host: %s"),
    /** The server's passive reply could not be understood. */
    BAD_PASSIVE_REPLY(425, "Can't open data connection: the server's passive reply was invalid"),
    /** The server's passive reply named a port below 1024 (RFC 2577 §3; OpenBSD ftp-proxy). */
    PRIVILEGED_PASSIVE_PORT(425, "Can't open data connection: the server offered a privileged port (%s)"),
    /** The server sent a reply while no command was outstanding (RFC 959 §5.4). */
    UNSOLICITED_REPLY(421, "Service not available: the FTP server sent a reply that was not asked for (%s)"),
    /** The server's reply code cannot answer the outstanding command (227 to USER, 150 to NOOP...). */
    UNEXPECTED_REPLY(421, "Service not available: the FTP server sent %s"),
    /** A client connected while the gateway drains its sessions (SIGTERM). */
    SHUTTING_DOWN(421, "Service not available: the gateway is shutting down, try again later"),
    /** A client connected during a maintenance drain, after its grace period (POST /drain, SIGUSR1). */
    DRAINING(421, "Service not available: the gateway is draining, try again later"),
    /** A client connected while control.max-sessions sessions run. */
    GATEWAY_FULL(421, "Service not available: too many sessions, try again later"),
    /** A client connected with abuse.max-sessions-per-address sessions of its address running. */
    SESSIONS_PER_ADDRESS(421, "Service not available: too many sessions from your address (at most %s); "
            + "close one and try again"),
    /** A client connected with abuse.max-sessions-per-ipv6-prefix sessions of its IPv6 /64 running. */
    SESSIONS_PER_PREFIX(421, "Service not available: too many sessions from your network %s (at most %s); "
            + "close one and try again"),
    /** The client's address is banned after abuse.login-failures.limit failed logins. */
    LOGIN_BANNED(421, "Service not available: too many failed logins from your address; try again in %s"),
    /** A session sent more than abuse.commands-per-second: its commands are delayed (no reply). */
    COMMAND_RATE(0, "Commands are delayed: more than the allowed commands per second"),
    /** A session asked for more than abuse.max-data-connections data connections. */
    DATA_CONNECTION_LIMIT(425, "Can't open data connection: this session has negotiated its %s data connections; "
            + "log in again for more");

    private final int replyCode;
    private final String text;

    Reason(int replyCode, String text) {
        this.replyCode = replyCode;
        this.text = text;
    }

    /** The FTP reply code that reports this reason to a client (0: no reply, only a log line). */
    public int replyCode() {
        return replyCode;
    }

    /** The reply text, with {@code %s} filled from {@code args}. */
    public String text(Object... args) {
        return args.length == 0 ? text.replace(" (%s)", "").replace(": %s", "") : String.format(text, args);
    }

    /** The metric label value. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
