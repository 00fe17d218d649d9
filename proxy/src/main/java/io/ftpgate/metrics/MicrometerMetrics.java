package io.ftpgate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The catalogue of ftpgate's meters (names as Prometheus shows them):
 * <ul>
 *   <li>{@code ftpgate_sessions_active} gauge; {@code ftpgate_sessions_total{listener}};
 *       {@code ftpgate_session_duration_seconds{listener}}; {@code ftpgate_sessions_rejected_total{listener}}</li>
 *   <li>{@code ftpgate_upstream_connect_seconds{listener}}; {@code ftpgate_upstream_failures_total{listener}}</li>
 *   <li>{@code ftpgate_data_connections_total{mode,outcome}}</li>
 *   <li>{@code ftpgate_relayed_bytes_total{direction}} (upload: client to server)</li>
 *   <li>{@code ftpgate_refused_total{reason}}; {@code ftpgate_throttled_total{reason}} (delayed, not refused)</li>
 *   <li>{@code ftpgate_firewall_operations_seconds{operation,result}}; {@code ftpgate_firewall_leases_active};
 *       {@code ftpgate_firewall_orphans_removed_total}; {@code ftpgate_firewall_lease_faults_total{fault,cause}}
 *       (leases whose apply was compensated or not, doubtful ones removed later, leaked ones the
 *       session's end found, failed safety-net revokes)</li>
 *   <li>{@code ftpgate_transfers_total{kind,mode,outcome}}; {@code ftpgate_transfer_duration_seconds{kind,mode}};
 *       {@code ftpgate_transfer_size_bytes{kind}}</li>
 *   <li>{@code ftpgate_commands_total{verb}} (standard verbs, else "other"); {@code ftpgate_replies_total{class}}
 *       (1xx..5xx); {@code ftpgate_logins_total{listener,outcome}}; {@code ftpgate_client_bans_total}
 *       (client addresses banned after failed logins)</li>
 *   <li>{@code ftpgate_data_ports_in_use}, {@code ftpgate_data_ports}: bound data ports and the range size</li>
 *   <li>{@code ftpgate_build_info{version,java,instance_name}} (always 1; instance_name is the instance-name setting: Prometheus keeps "instance" for the target); {@code ftpgate_sessions_limit};
 *       {@code ftpgate_draining} (1 while draining or stopping: /ready answers 503)</li>
 *   <li>{@code ftpgate_proxy_headers_total{outcome}} (connections that must start with a PROXY
 *       header: on control listeners with the PROXY protocol, and on data ports with
 *       proxy-protocol.data-connections: proxied, local, untrusted, invalid, timeout)</li>
 *   <li>{@code ftpgate_tls_handshakes_total{leg,channel,resumed,result}} (leg client|server, channel
 *       control|data, resumed yes|no, result ok|failed); {@code ftpgate_tls_handshake_seconds{leg,channel}};
 *       {@code ftpgate_tls_reuse_rejected_total{leg}} (reuse required but absent);
 *       {@code ftpgate_tls_injection_rejected_total{leg}}; {@code ftpgate_tls_truncations_total{leg}};
 *       {@code ftpgate_tls_certificate_not_after_timestamp_seconds{listener}} (when the listener's
 *       certificate expires, seconds since the epoch)</li>
 * </ul>
 */
public final class MicrometerMetrics implements GatewayMetrics {

    private final MeterRegistry registry;
    // The meters of every event, each registered once per set of tag values (see MeterCache).
    private final MeterCache<String, Counter> sessions = new MeterCache<>();
    private final MeterCache<String, Timer> sessionDurations = new MeterCache<>();
    private final MeterCache<String, Counter> sessionsRejected = new MeterCache<>();
    private final MeterCache<String, Timer> upstreamConnects = new MeterCache<>();
    private final MeterCache<String, Counter> upstreamFailures = new MeterCache<>();
    private final MeterCache<List<?>, Counter> dataConnections = new MeterCache<>();
    private final MeterCache<Direction, Counter> relayed = new MeterCache<>();
    private final MeterCache<Enum<?>, Counter> dataPaths = new MeterCache<>();
    private final MeterCache<List<?>, Counter> relays = new MeterCache<>();
    private final MeterCache<String, Counter> commands = new MeterCache<>();
    private final MeterCache<Integer, Counter> replies = new MeterCache<>();
    private final MeterCache<List<?>, Counter> logins = new MeterCache<>();
    private final MeterCache<Enum<?>, Counter> throttled = new MeterCache<>();
    private final MeterCache<Enum<?>, Counter> refused = new MeterCache<>();
    private final MeterCache<List<?>, Timer> firewallOperations = new MeterCache<>();
    private final MeterCache<Enum<?>, Counter> proxyHeaders = new MeterCache<>();
    private final MeterCache<List<?>, Counter> transfers = new MeterCache<>();
    private final MeterCache<List<?>, Timer> transferDurations = new MeterCache<>();
    private final MeterCache<TransferKind, DistributionSummary> transferSizes = new MeterCache<>();
    private final MeterCache<List<?>, Counter> tlsHandshakes = new MeterCache<>();
    private final MeterCache<List<?>, Timer> tlsHandshakeTimes = new MeterCache<>();

    /** @param instance the gateway's instance-name (a label of build_info only: one value per process) */
    public MicrometerMetrics(MeterRegistry registry, String version, String instance) {
        this.registry = registry;
        Gauge.builder("ftpgate.build.info", () -> 1).description("Version and instance name of the running ftpgate (value is always 1)")
                .tag("version", version).tag("java", System.getProperty("java.version", "unknown")).tag("instance_name", instance)
                .strongReference(true).register(registry);
    }

    private static String tag(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void sessionOpened(String listener) {
        sessions.get(listener, k -> Counter.builder("ftpgate.sessions").description("Client control sessions started")
                .tag("listener", listener).register(registry)).increment();
    }

    @Override
    public void sessionClosed(String listener, long durationNanos) {
        sessionDurations.get(listener, k -> Timer.builder("ftpgate.session.duration")
                .description("Length of client control sessions")
                .tag("listener", listener).register(registry)).record(durationNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void sessionRejected(String listener) {
        sessionsRejected.get(listener, k -> Counter.builder("ftpgate.sessions.rejected")
                .description("Client connections turned away (limit, shutdown)")
                .tag("listener", listener).register(registry)).increment();
    }

    @Override
    public void upstreamConnected(String listener, long latencyNanos) {
        upstreamConnects.get(listener, k -> Timer.builder("ftpgate.upstream.connect")
                .description("Time to connect to the upstream FTP server")
                .tag("listener", listener).register(registry)).record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void upstreamFailed(String listener) {
        upstreamFailures.get(listener, k -> Counter.builder("ftpgate.upstream.failures")
                .description("Upstream FTP server connections that failed")
                .tag("listener", listener).register(registry)).increment();
    }

    @Override
    public void dataConnectionEnded(Enum<?> mode, Outcome outcome) {
        dataConnections.get(List.of(mode, outcome), k -> Counter.builder("ftpgate.data.connections")
                .description("Data connections by client mode and outcome")
                .tag("mode", tag(mode)).tag("outcome", tag(outcome)).register(registry)).increment();
    }

    @Override
    public void bytesRelayed(Direction direction, long bytes) {
        relayed.get(direction, k -> Counter.builder("ftpgate.relayed")
                .baseUnit("bytes").description("Data bytes relayed, upload is client to server")
                .tag("direction", tag(direction)).register(registry)).increment(bytes);
    }

    @Override
    public void transferEnded(TransferKind kind, Enum<?> mode, Outcome outcome, long durationNanos, long bytes) {
        transfers.get(List.of(kind, mode, outcome), k -> Counter.builder("ftpgate.transfers")
                .description("Transfer commands whose data connection ended, by kind, mode, outcome")
                .tag("kind", tag(kind)).tag("mode", tag(mode)).tag("outcome", tag(outcome)).register(registry)).increment();
        transferDurations.get(List.of(kind, mode), k -> Timer.builder("ftpgate.transfer.duration")
                .description("Time from a transfer command to the end of its data connection")
                .tag("kind", tag(kind)).tag("mode", tag(mode)).register(registry)).record(durationNanos, TimeUnit.NANOSECONDS);
        if (bytes >= 0) {
            transferSizes.get(kind, k -> DistributionSummary.builder("ftpgate.transfer.size").baseUnit("bytes")
                    .description("Bytes moved by one transfer").tag("kind", tag(kind)).register(registry)).record(bytes);
        }
    }

    @Override
    public void dataPathChosen(Enum<?> path) {
        dataPaths.get(path, k -> Counter.builder("ftpgate.data.paths")
                .description("Data connections that ended, by path: relay or kernel (forwarded by the kernel)")
                .tag("path", tag(path)).register(registry)).increment();
    }

    @Override
    public void relayUsed(Enum<?> relay, Enum<?> copyReason) {
        relays.get(List.of(relay, copyReason), k -> Counter.builder("ftpgate.data.relays")
                .description("Relayed data connections that ended, by relay (splice or copy) and, if copied, why (reason)")
                .tag("relay", tag(relay)).tag("reason", tag(copyReason)).register(registry)).increment();
    }

    @Override
    public void command(String verb) {
        commands.get(verb, k -> Counter.builder("ftpgate.commands")
                .description("Commands from clients, by verb (standard verbs only, else other)")
                .tag("verb", verb.toLowerCase(Locale.ROOT)).register(registry)).increment();
    }

    @Override
    public void reply(int code) {
        replies.get(code / 100, k -> Counter.builder("ftpgate.replies").description("Replies sent to clients, by class")
                .tag("class", (code / 100) + "xx").register(registry)).increment();
    }

    @Override
    public void login(String listener, boolean success) {
        logins.get(List.of(listener, success), k -> Counter.builder("ftpgate.logins")
                .description("Logins through the gateway, by outcome")
                .tag("listener", listener).tag("outcome", success ? "success" : "failure").register(registry)).increment();
    }

    @Override
    public void throttled(Enum<?> reason) {
        throttled.get(reason, k -> Counter.builder("ftpgate.throttled")
                .description("Client commands delayed rather than refused, by reason")
                .tag("reason", tag(reason)).register(registry)).increment();
    }

    @Override
    public void clientBanned() {
        Counter.builder("ftpgate.client.bans").description("Client addresses banned after too many failed logins")
                .register(registry).increment();
    }

    @Override
    public void dataPorts(IntSupplier inUse, int rangeSize) {
        Gauge.builder("ftpgate.data.ports.in.use", inUse::getAsInt)
                .description("Data ports of the range bound now").strongReference(true).register(registry);
        Gauge.builder("ftpgate.data.ports", () -> rangeSize)
                .description("Size of the data port range").strongReference(true).register(registry);
    }

    @Override
    public void refused(Enum<?> reason) {
        refused.get(reason, k -> Counter.builder("ftpgate.refused")
                .description("Commands and data connections refused, by reason")
                .tag("reason", tag(reason)).register(registry)).increment();
    }

    @Override
    public void firewallOperation(FirewallOp op, long latencyNanos, boolean success) {
        firewallOperations.get(List.of(op, success), k -> Timer.builder("ftpgate.firewall.operations")
                .description("Firewall lease changes and their latency")
                .tag("operation", tag(op)).tag("result", success ? "success" : "failure")
                // Buckets for p99 of lease latency (a rule must be in place before a port is announced).
                .serviceLevelObjectives(Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofSeconds(1))
                .register(registry)).record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void firewallOrphansRemoved(int count) {
        Counter.builder("ftpgate.firewall.orphans.removed")
                .description("Leases left by an earlier run and removed at start").register(registry).increment(count);
    }

    @Override
    public void firewallObjectRestored(String object) {
        Counter.builder("ftpgate.firewall.objects.restored")
                .description("ftpgate's own firewall objects found missing (a reload of the ruleset) and put back")
                .tag("object", object).register(registry).increment();
    }

    @Override
    public void firewallLeaseFault(Enum<?> fault, Enum<?> cause, int leases) {
        Counter.builder("ftpgate.firewall.lease.faults")
                .description("Leases that risked outliving their use: failed applies undone or not, leaks, failed revokes")
                .tag("fault", tag(fault)).tag("cause", tag(cause)).register(registry).increment(leases);
    }

    @Override
    public void leasesActive(IntSupplier count) {
        Gauge.builder("ftpgate.firewall.leases.active", count::getAsInt)
                .description("Firewall leases in place now").strongReference(true).register(registry);
    }

    @Override
    public void proxyHeader(Enum<?> outcome) {
        proxyHeaders.get(outcome, k -> Counter.builder("ftpgate.proxy.headers")
                .description("Connections that must start with a PROXY header (control and data), by what it led to")
                .tag("outcome", tag(outcome)).register(registry)).increment();
    }

    @Override
    public void draining(java.util.function.BooleanSupplier draining) {
        Gauge.builder("ftpgate.draining", () -> draining.getAsBoolean() ? 1 : 0)
                .description("1 while the gateway drains or stops (no new sessions after the grace), else 0")
                .strongReference(true).register(registry);
    }

    @Override
    public void sessionsLimit(IntSupplier limit) {
        Gauge.builder("ftpgate.sessions.limit", limit::getAsInt)
                .description("Most client control sessions at once (control.max-sessions)").strongReference(true).register(registry);
    }

    @Override
    public void sessionsActive(IntSupplier count) {
        Gauge.builder("ftpgate.sessions.active", count::getAsInt)
                .description("Client control sessions open now").strongReference(true).register(registry);
    }

    @Override
    public void tlsHandshake(TlsLeg leg, TlsChannel channel, boolean resumed, boolean ok, long latencyNanos) {
        tlsHandshakes.get(List.of(leg, channel, resumed, ok), k -> Counter.builder("ftpgate.tls.handshakes")
                .description("TLS handshakes by leg, channel, resumption and result")
                .tag("leg", tag(leg)).tag("channel", tag(channel)).tag("resumed", resumed ? "yes" : "no")
                .tag("result", ok ? "ok" : "failed").register(registry)).increment();
        tlsHandshakeTimes.get(List.of(leg, channel), k -> Timer.builder("ftpgate.tls.handshake")
                .description("Time from the first TLS record to the end of the handshake")
                .tag("leg", tag(leg)).tag("channel", tag(channel))
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(25),
                        Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(2))
                .register(registry)).record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void tlsReuseRejected(TlsLeg leg) {
        Counter.builder("ftpgate.tls.reuse.rejected")
                .description("TLS data connections refused because they did not resume the control session")
                .tag("leg", tag(leg)).register(registry).increment();
    }

    @Override
    public void tlsInjectionRejected(TlsLeg leg) {
        Counter.builder("ftpgate.tls.injection.rejected")
                .description("Sessions closed for clear bytes pipelined after AUTH TLS or its 234 reply")
                .tag("leg", tag(leg)).register(registry).increment();
    }

    @Override
    public void tlsTruncation(TlsLeg leg) {
        Counter.builder("ftpgate.tls.truncations").description("TLS data connections that ended without close_notify")
                .tag("leg", tag(leg)).register(registry).increment();
    }

    @Override
    public void tlsCertificateNotAfter(String listener, LongSupplier epochSeconds) {
        Gauge.builder("ftpgate.tls.certificate.not.after.timestamp", () -> epochSeconds.getAsLong())
                .baseUnit("seconds").description("When the listener's current TLS certificate expires, seconds since the epoch")
                .tag("listener", listener).strongReference(true).register(registry);
    }
}
