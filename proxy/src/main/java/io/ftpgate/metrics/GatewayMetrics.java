package io.ftpgate.metrics;

import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/** What the gateway reports, in its own words; implementations decide how it is counted. */
public interface GatewayMetrics {

    enum Direction { UPLOAD, DOWNLOAD }

    enum FirewallOp { APPLY, REVOKE }

    enum Outcome { COMPLETED, FAILED, CANCELLED }

    /** What a transfer command moved: a file to the client, a file to the server, or a listing. */
    enum TransferKind { DOWNLOAD, UPLOAD, LISTING }

    void sessionOpened(String listener);

    void sessionClosed(String listener, long durationNanos);

    /** A client connection turned away before a session started (session limit, shutdown). */
    void sessionRejected(String listener);

    void upstreamConnected(String listener, long latencyNanos);

    void upstreamFailed(String listener);

    /** A data connection ended; {@code mode} is the client's dialect (pasv, epsv, port, eprt). */
    void dataConnectionEnded(Enum<?> mode, Outcome outcome);

    void bytesRelayed(Direction direction, long bytes);

    /**
     * A transfer command's data connection ended ({@code mode}: the client's dialect); {@code bytes}
     * is negative when unknown (the kernel forwarded them).
     */
    void transferEnded(TransferKind kind, Enum<?> mode, Outcome outcome, long durationNanos, long bytes);

    /** A data connection ended that was set up on {@code path} (relay or kernel). */
    void dataPathChosen(Enum<?> path);

    /**
     * A relayed data connection ended whose bytes moved by {@code relay} (splice or copy);
     * {@code copyReason} says why a copied one was not spliced ({@code none} for a spliced one).
     */
    void relayUsed(Enum<?> relay, Enum<?> copyReason);

    /** A command from a client; {@code verb} is a standard verb upper-case, or "OTHER". */
    void command(String verb);

    /** A reply sent to a client. */
    void reply(int code);

    /** A login ended: 230 (success) or 530 (failure). */
    void login(String listener, boolean success);

    /** Something of a client was delayed rather than refused; {@code reason} is an enum (the label). */
    void throttled(Enum<?> reason);

    /** A client address was banned after too many failed logins (abuse.login-failures). */
    void clientBanned();

    /** Registers the number of data ports bound now and the size of the range. */
    void dataPorts(IntSupplier inUse, int rangeSize);

    /** A data connection or command refused; {@code reason} is an enum (its name is the label). */
    void refused(Enum<?> reason);

    void firewallOperation(FirewallOp op, long latencyNanos, boolean success);

    void firewallOrphansRemoved(int count);

    /** The periodic check put back one of the firewall's own objects: {@code table}, {@code rule}, {@code chain}, {@code jump} or {@code set}. */
    void firewallObjectRestored(String object);

    /**
     * {@code leases} firewall leases met {@code fault} (compensated, uncompensated, doubtful_removed,
     * leaked, revoke_failed) because of, or at, {@code cause} (timeout, error, session_end, stop).
     */
    void firewallLeaseFault(Enum<?> fault, Enum<?> cause, int leases);

    /** Registers the live count of firewall leases. */
    void leasesActive(IntSupplier count);

    /** Registers the session limit (it may change on reload). */
    void sessionsLimit(IntSupplier limit);

    /**
     * A connection that must start with a PROXY header (a control listener with the PROXY protocol,
     * a data port with proxy-protocol.data-connections): what its header (or its absence) led to.
     */
    void proxyHeader(Enum<?> outcome);

    /** Registers whether the gateway is draining or stopping (1) or takes new sessions (0). */
    void draining(java.util.function.BooleanSupplier draining);

    /** Registers the live count of control sessions. */
    void sessionsActive(IntSupplier count);

    /** The TLS leg: client (client to gateway, the gateway is the TLS server) or server (gateway to server). */
    enum TlsLeg { CLIENT, SERVER }

    enum TlsChannel { CONTROL, DATA }

    /**
     * A TLS handshake ended, successfully ({@code ok}) or not, after {@code latencyNanos};
     * {@code resumed}: it resumed an earlier session (false for a failed one).
     */
    void tlsHandshake(TlsLeg leg, TlsChannel channel, boolean resumed, boolean ok, long latencyNanos);

    /** A TLS data connection that did not resume its control session was refused (reuse required). */
    void tlsReuseRejected(TlsLeg leg);

    /** Clear bytes followed AUTH TLS (client) or the 234 reply (server): the session was closed (CVE-2011-0411 class). */
    void tlsInjectionRejected(TlsLeg leg);

    /** A TLS data connection ended without close_notify: the transfer may be cut short. */
    void tlsTruncation(TlsLeg leg);

    /** Registers the expiry (notAfter, seconds since the epoch) of a listener's current certificate. */
    void tlsCertificateNotAfter(String listener, LongSupplier epochSeconds);

    /** Does nothing; for tests and tools. */
    GatewayMetrics NONE = new GatewayMetrics() {
        @Override public void sessionOpened(String listener) {}
        @Override public void sessionClosed(String listener, long durationNanos) {}
        @Override public void sessionRejected(String listener) {}
        @Override public void upstreamConnected(String listener, long latencyNanos) {}
        @Override public void upstreamFailed(String listener) {}
        @Override public void dataConnectionEnded(Enum<?> mode, Outcome outcome) {}
        @Override public void bytesRelayed(Direction direction, long bytes) {}
        @Override public void transferEnded(TransferKind kind, Enum<?> mode, Outcome outcome, long durationNanos, long bytes) {}
        @Override public void dataPathChosen(Enum<?> path) {}
        @Override public void relayUsed(Enum<?> relay, Enum<?> copyReason) {}
        @Override public void command(String verb) {}
        @Override public void reply(int code) {}
        @Override public void login(String listener, boolean success) {}
        @Override public void clientBanned() {}
        @Override public void throttled(Enum<?> reason) {}
        @Override public void dataPorts(IntSupplier inUse, int rangeSize) {}
        @Override public void refused(Enum<?> reason) {}
        @Override public void firewallOperation(FirewallOp op, long latencyNanos, boolean success) {}
        @Override public void firewallOrphansRemoved(int count) {}
        @Override public void firewallObjectRestored(String object) {}
        @Override public void firewallLeaseFault(Enum<?> fault, Enum<?> cause, int leases) {}
        @Override public void leasesActive(IntSupplier count) {}
        @Override public void sessionsActive(IntSupplier count) {}
        @Override public void sessionsLimit(IntSupplier limit) {}
        @Override public void draining(java.util.function.BooleanSupplier draining) {}
        @Override public void proxyHeader(Enum<?> outcome) {}
        @Override public void tlsHandshake(TlsLeg leg, TlsChannel channel, boolean resumed, boolean ok, long latencyNanos) {}
        @Override public void tlsReuseRejected(TlsLeg leg) {}
        @Override public void tlsInjectionRejected(TlsLeg leg) {}
        @Override public void tlsTruncation(TlsLeg leg) {}
        @Override public void tlsCertificateNotAfter(String listener, LongSupplier epochSeconds) {}
    };
}
