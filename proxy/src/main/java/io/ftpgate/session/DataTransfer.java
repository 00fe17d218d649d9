package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.data.CopyReason;
import io.ftpgate.data.DataListener;
import io.ftpgate.data.ProxyHeaderOutcome;
import io.ftpgate.data.DataRelay;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.GatewayMetrics.Outcome;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One negotiated data connection of a session, from PASV/EPSV/PORT/EPRT to its end: the client
 * leg (the gateway listens, or connects to the client's PORT address), the server leg (the
 * gateway connects to the server's passive port, or listens for the server), the firewall leases
 * that let exactly those connections in, the deadline, and the relay. Single use: it ends when
 * the relay ends, when it fails, or when the session cancels it.
 *
 * <p>On the kernel path ({@link #kernel}) there is no relay: the kernel forwards the one data
 * connection past the gateway (the client's to the server's passive port, or, with the server leg
 * kept active, the server's to the client's PORT address). The transfer then ends
 * with the server's final reply to the transfer command; at the deadline, the lease's rules go
 * either way, and the transfer fails only if no connection was made.
 */
final class DataTransfer {
    private static final Logger log = LoggerFactory.getLogger(DataTransfer.class);

    /**
     * Where the data connection stands. Moves forward only: {@code NEGOTIATING} (the server is asked,
     * ports and leases are being opened) → {@code ANNOUNCED} (the client has its 200/227/229; the
     * connection waits for a transfer command) → {@code IN_USE} (the transfer command went to the
     * server) → {@code ENDED} (relay finished, failed or cancelled). Any phase may jump to ENDED.
     */
    enum Phase { NEGOTIATING, ANNOUNCED, IN_USE, ENDED }

    /** The two data legs. */
    enum Leg {
        CLIENT, SERVER;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One leg: none yet, the gateway is connecting it, or it is attached to the relay. */
    enum LegState { NONE, CONNECTING, ATTACHED }

    private final ControlSession session;
    final DataMode mode;
    private final DataRelay relay;
    private final List<LeaseHandle> leases = new ArrayList<>();
    private final List<DataListener> listeners = new ArrayList<>();
    private InetSocketAddress clientTarget;
    private InetSocketAddress serverTarget;
    private ScheduledFuture<?> deadline;
    private Phase phase = Phase.NEGOTIATING;
    private LegState clientLeg = LegState.NONE;
    private LegState serverLeg = LegState.NONE;
    private Reason failure;
    private FtpCommand command;
    private long commandNanos;
    private String failureDetail;
    /** The server's final reply to the transfer command has arrived. */
    private boolean finalReplySeen;
    /** The server's negative final reply to the transfer command, while it could still decide the outcome; or null. */
    private FtpReply refusal;
    /**
     * The relay ended cleanly before the server's final reply: whether the transfer succeeded is
     * the reply's to say (a server that could not use the data connection closes it and answers
     * 425 or 426), so the record waits for it ({@link #finalReply}).
     */
    private Outcome pendingRecord;
    /** Non-null on the kernel path: the lease whose rules forward the connection. */
    private ForwardLease kernelLease;
    /** The client leg's TLS, if its data connections are protected; else null. */
    private final ClientLegTls clientTls;
    /** The server leg's TLS, if its data connections are protected; else null. */
    private final ServerLegTls serverTls;
    /** Why the relay copies rather than splices; {@link CopyReason#NONE} if it is asked to splice. */
    private final CopyReason copyReason;
    /** The server answered the transfer command with 1xx. */
    private boolean started;
    /** A TLS server leg that is connected but waits for the 1xx before its handshake. */
    private Channel pendingServer;
    /** The client has its 227/229 (a passive client): the server leg may be connected ahead of it. */
    private boolean passiveAnnounced;
    /** The server leg's connect in flight was started ahead of the client's connection. */
    private boolean serverConnectEarly;

    DataTransfer(ControlSession session, DataMode mode) {
        this.session = session;
        this.mode = mode;
        // The protection in force when the connection is negotiated (PROT comes before PASV/PORT).
        this.clientTls = session.clientTls().privateData() ? session.clientTls() : null;
        this.serverTls = session.serverTls().privateData() ? session.serverTls() : null;
        this.copyReason = copyReason(session);
        this.relay = new DataRelay(session.settings().data().idleTimeout(), copyReason == CopyReason.NONE,
                this::relayFinished);
    }

    /**
     * Splice where the settings ask for it, the transport can and both legs are plain, with no
     * bandwidth limit: a TLS leg's bytes are decrypted and encrypted again by the gateway, and
     * shaping counts bytes as they are read, so both need the bytes to pass through it.
     */
    private CopyReason copyReason(ControlSession s) {
        if (s.settings().data().relay() != Settings.Relay.SPLICE) {
            return CopyReason.CONFIGURED;
        } else if (isTls()) {
            return CopyReason.TLS;
        } else if (DataBandwidth.limits(s)) {
            return CopyReason.BANDWIDTH;
        } else if (!s.services().transport().canSplice()) {
            return CopyReason.TRANSPORT;
        }
        return CopyReason.NONE;
    }

    /**
     * How the relay moved the bytes: {@link CopyReason#NONE} if spliced, else why it copied
     * (meaningful once the legs have met; {@link CopyReason#LEGS} if they never did).
     */
    CopyReason relayedBy() {
        return relay.isSpliced() ? CopyReason.NONE : copyReason == CopyReason.NONE ? CopyReason.LEGS : copyReason;
    }

    /** {@link #relayedBy()} for the transfer log: {@code splice}, or {@code copy(why)}. */
    String relayText() {
        CopyReason by = relayedBy();
        return by == CopyReason.NONE ? "splice" : "copy(" + by.name().toLowerCase(Locale.ROOT) + ")";
    }

    /** Whether either leg is TLS (PROT P): such a connection is relayed by copying, never by the kernel. */
    boolean isTls() {
        return clientTls != null || serverTls != null;
    }

    // ---- negotiation ------------------------------------------------------------------------

    /** The gateway will connect to the client's PORT/EPRT address once the server sends 1xx. */
    void clientTarget(InetSocketAddress target) {
        this.clientTarget = target;
    }

    /** The client's PORT/EPRT address, or null (passive client). */
    InetSocketAddress clientTarget() {
        return clientTarget;
    }

    /** The gateway will connect to the server's passive address. */
    void serverTarget(InetSocketAddress target) {
        this.serverTarget = target;
    }

    /** A firewall lease of this transfer: revoked on connect, deadline, failure or end. */
    void lease(LeaseHandle lease) {
        leases.add(lease);
    }

    /** A listener for the client (PASV/EPSV) or the server (active server leg) is bound. */
    void listening(DataListener listener) {
        listeners.add(listener);
    }

    /** The kernel forwards this data connection (its rules are in place); nothing is relayed. */
    void kernel(ForwardLease lease) {
        kernelLease = lease;
    }

    /** Whether the kernel forwards this data connection. */
    boolean isKernel() {
        return kernelLease != null;
    }

    /**
     * Kernel path: the server's final reply to the transfer command ends the transfer (the bytes
     * went through the kernel, so there is nothing to wait for).
     */
    void kernelFinished(FtpReply reply) {
        if (phase != Phase.ENDED) {
            end(reply.isPositiveCompletion() ? Outcome.COMPLETED : Outcome.CANCELLED);
        }
    }

    DataListener.Events clientListenerEvents() {
        return listenerEvents(Leg.CLIENT);
    }

    DataListener.Events serverListenerEvents() {
        return listenerEvents(Leg.SERVER);
    }

    /** The expected peer connected to the gateway's listener on one leg: its lease is spent. */
    private DataListener.Events listenerEvents(Leg leg) {
        return new DataListener.Events() {
            @Override
            public void accepted(Channel ch) {
                revokeListenerLeases();
                if (phase == Phase.ENDED) {
                    ch.close();
                    return;
                }
                configure(ch);
                arrived(leg, ch);
            }

            @Override
            public void refused(InetSocketAddress from, InetSocketAddress via) {
                session.refusedDataConnection(from, via, leg.label());
            }

            @Override
            public void proxyHeader(InetSocketAddress peer, ProxyHeaderOutcome outcome, String detail) {
                session.dataProxyHeader(peer, outcome, detail, leg.label());
            }

            @Override
            public void failed(Throwable cause, boolean listening) {
                if (!listening || phase == Phase.ENDED) {
                    // e.g. "accept(..) failed: Invalid argument" from a listener closed meanwhile
                    log.debug("session {}: {} data listener, already closed: {}", session.id(), leg.label(), cause.toString());
                } else {
                    fail(Reason.CONNECT_FAILED, leg.label() + " data listener: " + LeaseHandle.rootMessage(cause));
                }
            }
        };
    }

    /**
     * A leg's TCP connection exists (accepted or connected). A plain leg goes to the relay at once;
     * a TLS leg after its handshake (the gateway is the TLS server towards the client and the TLS
     * client towards the server, whoever connected, RFC 4217 §7), and a TLS server leg only once the
     * server answered the transfer command with 1xx: a failed command starts no handshake, and
     * spends none of the server's session tickets.
     */
    private void arrived(Leg leg, Channel ch) {
        if (leg == Leg.CLIENT && clientTls != null) {
            handshake(leg, ch, clientTls.dataHandler(ch.alloc()));
        } else if (leg == Leg.SERVER && serverTls != null) {
            if (started) {
                handshake(leg, ch, serverTls.dataHandler(ch.alloc()));
            } else {
                pendingServer = ch;
            }
        } else {
            attach(leg, ch);
        }
    }

    private void handshake(Leg leg, Channel ch, SslHandler h) {
        ch.pipeline().addFirst(PipelineNames.TLS, h);
        // Auto-read is off until the relay takes the leg; the handshake reads on by itself once started.
        ch.read();
        long start = System.nanoTime();
        GatewayMetrics.TlsLeg tlsLeg = leg == Leg.CLIENT ? GatewayMetrics.TlsLeg.CLIENT : GatewayMetrics.TlsLeg.SERVER;
        h.handshakeFuture().addListener(f -> {
            long nanos = System.nanoTime() - start;
            if (phase == Phase.ENDED) {
                ch.close();
                return;
            }
            if (!f.isSuccess()) {
                session.metrics().tlsHandshake(tlsLeg, GatewayMetrics.TlsChannel.DATA, false, false, nanos);
                DataRelay.resetClose(ch);
                fail(Reason.TLS_HANDSHAKE_FAILED, leg.label() + " leg: " + LeaseHandle.rootMessage(f.cause()));
                return;
            }
            boolean resumed = leg == Leg.CLIENT ? clientTls.resumed(h) : serverTls.resumed(h);
            session.metrics().tlsHandshake(tlsLeg, GatewayMetrics.TlsChannel.DATA, resumed, true, nanos);
            log.debug("session {}: {} data leg secured ({}, {})", session.id(), leg.label(),
                    h.engine().getSession().getProtocol(), resumed ? "resumed" : "full handshake");
            if (leg == Leg.CLIENT && !resumed && clientTls.settings().clientLeg().dataSessionReuse()
                    == Settings.DataSessionReuse.REQUIRED) {
                // The data connection is not tied to the authenticated control connection: it may
                // come from anyone who can connect from the client's address (data.session-reuse).
                session.metrics().tlsReuseRejected(GatewayMetrics.TlsLeg.CLIENT);
                DataRelay.resetClose(ch);
                fail(Reason.TLS_NOT_RESUMED, "the client's data connection did not resume its control connection's TLS session");
                return;
            }
            attach(leg, ch);
        });
    }

    /** A leg exists (and is secured, if TLS): the relay takes it over. */
    private void attach(Leg leg, Channel ch) {
        if (ch.pipeline().get(DataLegErrors.NAME) != null) {
            // The relay's handler ends the pipeline from here on.
            ch.pipeline().remove(DataLegErrors.NAME);
        }
        DataBandwidth.install(session, ch);
        if (leg == Leg.CLIENT) {
            clientLeg = LegState.ATTACHED;
            relay.attachClient(ch);
        } else {
            serverLeg = LegState.ATTACHED;
            relay.attachServer(ch);
        }
        maybeStopDeadline();
        if (leg == Leg.CLIENT) {
            maybeConnectServer();
        }
    }

    /** The client has been told where to connect (or that its PORT was accepted). */
    void announced() {
        if (phase == Phase.NEGOTIATING) {
            phase = Phase.ANNOUNCED;
        }
    }

    /**
     * The client has its 227/229: the server's passive port is connected now, while the client
     * connects to the gateway's, instead of one after the other.
     */
    void passiveAnnounced() {
        passiveAnnounced = true;
        maybeConnectServer();
    }

    /** Starts the deadline for the announced connection(s). */
    void startDeadline() {
        announced();
        long ms = session.settings().data().connectTimeout().toMillis();
        deadline = session.loop().schedule(() -> session.guard(() -> {
            if (phase != Phase.ENDED && kernelLease != null) {
                kernelDeadline(ms);
            } else if (phase != Phase.ENDED && !relay.isLinked()) {
                fail(Reason.DEADLINE, "no data connection within " + ms + " ms");
            }
        }), ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The kernel path's deadline: the lease ends now. Its connection, if made, goes on (conntrack
     * carries it); if none was made, the transfer fails as a relayed one would.
     */
    private void kernelDeadline(long ms) {
        session.services().leases().forwardConnected(kernelLease).whenComplete((connected, err) -> session.loop().execute(() -> session.guard(() -> {
            if (phase == Phase.ENDED) {
                return;
            }
            if (err == null && connected) {
                log.debug("session {}: kernel-path data connection made; its rules are removed, it goes on", session.id());
                leases.forEach(LeaseHandle::revoke);
            } else {
                fail(Reason.DEADLINE, "no data connection within " + ms + " ms"
                        + (err == null ? "" : " (" + LeaseHandle.rootMessage(err) + ")"));
            }
        })));
    }

    // ---- transfer ---------------------------------------------------------------------------

    /** Whether a transfer command used this connection, or it ended: it cannot serve another. */
    boolean isSpent() {
        return phase == Phase.IN_USE || phase == Phase.ENDED;
    }

    /** Whether the transfer command was forwarded to the server. */
    boolean isCommandSent() {
        return command != null;
    }

    boolean isEnded() {
        return phase == Phase.ENDED;
    }

    Phase phase() {
        return phase;
    }

    /** The transfer command was forwarded to the server. */
    void commandSent(FtpCommand c) {
        if (phase != Phase.ENDED) {
            phase = Phase.IN_USE;
        }
        command = c;
        commandNanos = System.nanoTime();
        maybeConnectServer();
    }

    /** The transfer command that used this connection, or null if none did. */
    FtpCommand command() {
        return command;
    }

    GatewayMetrics.TransferKind kind() {
        return switch (command == null ? "" : command.verb()) {
            case "RETR" -> GatewayMetrics.TransferKind.DOWNLOAD;
            case "STOR", "STOU", "APPE" -> GatewayMetrics.TransferKind.UPLOAD;
            default -> GatewayMetrics.TransferKind.LISTING;
        };
    }

    long elapsedNanos() {
        return command == null ? 0 : System.nanoTime() - commandNanos;
    }

    /** The server answered the transfer command with 1xx: it is about to use the data connection. */
    void transferStarting() {
        started = true;
        if (pendingServer != null && phase != Phase.ENDED) {
            Channel ch = pendingServer;
            pendingServer = null;
            handshake(Leg.SERVER, ch, serverTls.dataHandler(ch.alloc()));
        }
        if (clientTarget != null && clientLeg == LegState.NONE && phase != Phase.ENDED && kernelLease == null) {
            clientLeg = LegState.CONNECTING;
            connectClient();
        }
    }

    /** The failure that made this transfer end, if any. */
    Reason failure() {
        return failure;
    }

    String failureDetail() {
        return failureDetail;
    }

    /**
     * The server's final reply to the transfer command (before it is relayed). A negative one
     * makes the transfer a failure with reason {@link Reason#SERVER_REFUSED}, unless it already
     * ended otherwise (cancelled by ABOR, failed for a reason of its own).
     */
    void finalReply(FtpReply reply) {
        finalReplySeen = true;
        if (!reply.isPositiveCompletion() && failure == null && (phase != Phase.ENDED || pendingRecord != null)) {
            refusal = reply;
            session.metrics().refused(Reason.SERVER_REFUSED);
            log.info("session {}: the server refused the {} transfer: {}", session.id(), mode.name(),
                    io.ftpgate.protocol.LogText.escape(reply.lines().get(reply.lines().size() - 1)));
        }
        if (pendingRecord != null) {
            Outcome o = pendingRecord;
            pendingRecord = null;
            record(o);
        }
    }

    /** The session ended before the server's final reply came: the record says what the relay saw. */
    void recordWithoutReply() {
        if (pendingRecord != null) {
            Outcome o = pendingRecord;
            pendingRecord = null;
            record(o);
        }
    }

    /** Whether this transfer's record waits for the server's final reply. */
    boolean isRecordPending() {
        return pendingRecord != null;
    }

    /** Ends the transfer now: closes listeners and legs, removes the leases. Idempotent. */
    void cancel(String why) {
        if (phase != Phase.ENDED) {
            log.debug("session {}: data connection cancelled: {}", session.id(), why);
            end(Outcome.CANCELLED);
        }
    }

    /**
     * Like {@link #cancel}, for a transfer given up while it may be running (the session ended):
     * its legs are reset, so that neither peer takes a cut-short file for a whole one.
     */
    void abort(String why) {
        if (phase != Phase.ENDED) {
            log.debug("session {}: data connection aborted: {}", session.id(), why);
            end(Outcome.CANCELLED, true);
        }
    }

    void fail(Reason reason, String detail) {
        if (phase == Phase.ENDED) {
            return;
        }
        failure = reason;
        failureDetail = detail;
        session.metrics().refused(reason);
        log.warn("session {}: {} data connection failed: {} ({})", session.id(), mode.name(), reason.tag(), detail);
        end(Outcome.FAILED, true);
    }

    // ---- internals --------------------------------------------------------------------------

    private void maybeConnectServer() {
        if (serverTarget == null || serverLeg != LegState.NONE || phase == Phase.ENDED || kernelLease != null) {
            return;
        }
        // Connect once the client has its 227/229 (PASV/EPSV) or the command went out (PORT
        // converted). Connecting before the client does is safe: the server sends nothing before
        // the transfer command, and relay attach holds whatever comes meanwhile; a TLS server leg
        // waits for the 1xx before its handshake (see arrived); if the client never connects, the
        // deadline ends the transfer and closes this leg, so the server's port is held at most
        // data.connect-timeout longer than before, when it was connected at the client's arrival.
        if (passiveAnnounced || clientLeg == LegState.ATTACHED || phase == Phase.IN_USE) {
            serverConnectEarly = clientLeg != LegState.ATTACHED && phase != Phase.IN_USE;
            serverLeg = LegState.CONNECTING;
            connect(serverTarget, Leg.SERVER);
        }
    }

    private void connectClient() {
        InetAddress local = session.legs().clientLegLocal();
        if (session.settings().firewall().guardOutput()) {
            DataLease lease = new DataLease(session.id(), DataLease.Direction.OUTBOUND,
                    clientTarget.getAddress(), local, clientTarget.getPort(), session.legs().clientLegTransparent());
            LeaseHandle[] h = new LeaseHandle[1];
            h[0] = session.applyLease(lease, err -> {
                if (err != null) {
                    fail(Reason.FIREWALL_FAILED, LeaseHandle.rootMessage(err));
                } else if (phase != Phase.ENDED) {
                    connect(clientTarget, Leg.CLIENT);
                }
            });
            leases.add(h[0]);
        } else {
            connect(clientTarget, Leg.CLIENT);
        }
    }

    /** Connects a leg, after the loop's current I/O batch (see {@link io.ftpgate.data.NewSockets}). */
    private void connect(InetSocketAddress target, Leg leg) {
        io.ftpgate.data.NewSockets.afterIoBatch(session.loop(), () -> session.guard(() -> {
            if (phase != Phase.ENDED) {
                connectNow(target, leg);
            }
        }));
    }

    private void connectNow(InetSocketAddress target, Leg leg) {
        Bootstrap b = new Bootstrap()
                .group(session.loop())
                .channelFactory(session.services().transport().socketChannelFor(target.getAddress()))
                .option(ChannelOption.AUTO_READ, false)
                // TCP_NODELAY is on already: Netty sets it on every socket channel it makes.
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) session.settings().data().connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(DataLegErrors.NAME, new DataLegErrors(cause -> {
                            log.debug("session {}: {} data connection to {} failed: {}", session.id(), leg.label(), target,
                                    cause.toString());
                            fail(Reason.CONNECT_FAILED, "connect to " + leg.label() + " " + target + ": "
                                    + LeaseHandle.rootMessage(cause));
                        }));
                    }
                });
        boolean toClient = leg == Leg.CLIENT;
        if (toClient) {
            b.localAddress(new InetSocketAddress(session.legs().clientLegLocal(), 0));
        } else if (session.legs().serverLegTransparent()) {
            b.localAddress(new InetSocketAddress(session.legs().serverLegLocal(), 0));
        }
        if (toClient ? session.legs().clientLegTransparent() : session.legs().serverLegTransparent()) {
            // The source is not one of the gateway's addresses (the server's or the client's).
            b.option(io.netty.channel.epoll.EpollChannelOption.IP_TRANSPARENT, true);
        }
        ChannelFuture f = b.connect(target);
        f.addListener(done -> session.guard(() -> {
            if (!done.isSuccess() && !toClient && serverConnectEarly && phase != Phase.ENDED) {
                // Ahead of the client: the transfer fails as it did before, once the client is
                // there (its data connection accepted, then closed; the transfer command gets 425).
                log.debug("session {}: early connect to server {} failed, tried again with the client: {}", session.id(),
                        target, LeaseHandle.rootMessage(done.cause()));
                serverLeg = LegState.NONE;
                passiveAnnounced = false;
                maybeConnectServer();
                return;
            }
            if (!done.isSuccess()) {
                fail(Reason.CONNECT_FAILED, "connect to " + leg.label() + " " + target + ": "
                        + LeaseHandle.rootMessage(done.cause()));
                return;
            }
            if (phase == Phase.ENDED) {
                f.channel().close();
                return;
            }
            if (toClient) {
                // The connection exists; conntrack carries it from here, so the outbound lease goes.
                leases.forEach(LeaseHandle::revoke);
            }
            arrived(leg, f.channel());
        }));
    }

    private void configure(Channel ch) {
        ch.config().setWriteBufferWaterMark(waterMark());
    }

    private WriteBufferWaterMark waterMark() {
        var d = session.settings().data();
        return new WriteBufferWaterMark(d.writeBufferLow(), d.writeBufferHigh());
    }

    private void maybeStopDeadline() {
        boolean clientReady = clientLeg == LegState.ATTACHED || clientTarget != null;
        boolean serverReady = serverLeg == LegState.ATTACHED || serverTarget != null;
        if (clientReady && serverReady && deadline != null) {
            deadline.cancel(false);
        }
    }

    private void revokeListenerLeases() {
        leases.forEach(LeaseHandle::revoke);
    }

    private void relayFinished(long uploaded, long downloaded) {
        if (relay.wasTruncated()) {
            session.metrics().tlsTruncation(relay.truncatedByClient() ? GatewayMetrics.TlsLeg.CLIENT : GatewayMetrics.TlsLeg.SERVER);
            fail(Reason.TLS_TRUNCATED, (relay.truncatedByClient() ? "client" : "server") + " leg ended without close_notify after "
                    + uploaded + " bytes to server, " + downloaded + " bytes to client");
            return;
        }
        if (relay.wasIdle()) {
            long ms = session.settings().data().idleTimeout().toMillis();
            fail(Reason.DATA_IDLE, "no data moved for " + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms") + " ("
                    + uploaded + " bytes to server, " + downloaded + " bytes to client)");
            return;
        }
        if (relay.wasReset()) {
            fail(Reason.DATA_RESET, uploaded + " bytes to server, " + downloaded + " bytes to client");
            return;
        }
        end(failure == null ? Outcome.COMPLETED : Outcome.FAILED);
    }

    private void end(Outcome outcome) {
        end(outcome, false);
    }

    /**
     * @param reset whether open legs are reset rather than closed (see {@link DataRelay#reset()}),
     *     if a transfer command used them (before that, no file can be taken for complete)
     */
    private void end(Outcome outcome, boolean reset) {
        if (phase == Phase.ENDED) {
            return;
        }
        reset &= phase == Phase.IN_USE;
        phase = Phase.ENDED;
        if (deadline != null) {
            deadline.cancel(false);
        }
        listeners.forEach(DataListener::close);
        if (pendingServer != null) {
            pendingServer.close();
        }
        leases.forEach(LeaseHandle::revoke);
        if (reset) {
            relay.reset();
        } else {
            relay.close();
        }
        GatewayMetrics m = session.metrics();
        m.dataPathChosen(kernelLease != null ? Settings.DataPath.KERNEL : Settings.DataPath.RELAY);
        if (kernelLease == null && relay.isLinked()) {
            CopyReason by = relayedBy();
            m.relayUsed(by == CopyReason.NONE ? Settings.Relay.SPLICE : Settings.Relay.COPY, by);
        }
        if (outcome == Outcome.COMPLETED && command != null && isCommandSent() && !finalReplySeen) {
            pendingRecord = outcome;
        } else {
            record(outcome);
        }
        if (relay.uploaded() > 0) {
            m.bytesRelayed(GatewayMetrics.Direction.UPLOAD, relay.uploaded());
        }
        if (relay.downloaded() > 0) {
            m.bytesRelayed(GatewayMetrics.Direction.DOWNLOAD, relay.downloaded());
        }
        session.transferEnded(this, outcome, relay.uploaded(), relay.downloaded());
    }

    /** Counts and logs how the transfer ended (once); a server's refusal makes it a failure. */
    private void record(Outcome outcome) {
        Outcome o = refusal != null ? Outcome.FAILED : outcome;
        GatewayMetrics m = session.metrics();
        m.dataConnectionEnded(mode, o);
        if (command != null) {
            m.transferEnded(kind(), mode, o, elapsedNanos(), kernelLease != null ? -1 : relay.uploaded() + relay.downloaded());
            session.transferRecorded(this, o, failure != null ? failure : refusal != null ? Reason.SERVER_REFUSED : null,
                    relay.uploaded() + relay.downloaded());
        } else {
            log.debug("session {}: unused {} data connection {}", session.id(), mode.name(), o.name().toLowerCase());
        }
    }

}
