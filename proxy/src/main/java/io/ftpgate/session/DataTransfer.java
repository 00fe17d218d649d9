package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.data.DataListener;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
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

    private final ControlSession session;
    final DataMode mode;
    private final DataRelay relay;
    private final List<LeaseHandle> leases = new ArrayList<>();
    private final List<DataListener> listeners = new ArrayList<>();
    private InetSocketAddress clientTarget;
    private InetSocketAddress serverTarget;
    private ScheduledFuture<?> deadline;
    private boolean clientConnecting;
    private boolean serverConnecting;
    private boolean commandSent;
    private boolean clientAttached;
    private boolean serverAttached;
    private boolean ended;
    private Reason failure;
    private FtpCommand command;
    private long commandNanos;
    private String failureDetail;
    /** Non-null on the kernel path: the lease whose rules forward the connection. */
    private ForwardLease kernelLease;

    DataTransfer(ControlSession session, DataMode mode) {
        this.session = session;
        this.mode = mode;
        // Splice where the transport can (plain connections; a TLS relay will need the copying one).
        boolean splice = session.settings().data().relay() == Settings.Relay.SPLICE
                && session.services().transport().canSplice();
        this.relay = new DataRelay(session.settings().data().idleTimeout(), splice, this::relayFinished);
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
        if (!ended) {
            end(reply.isPositiveCompletion() ? Outcome.COMPLETED : Outcome.CANCELLED);
        }
    }

    DataListener.Events clientListenerEvents() {
        return listenerEvents(true);
    }

    DataListener.Events serverListenerEvents() {
        return listenerEvents(false);
    }

    /** The expected peer connected to the gateway's listener on one leg: its lease is spent. */
    private DataListener.Events listenerEvents(boolean clientLeg) {
        return new DataListener.Events() {
            @Override
            public void accepted(Channel ch) {
                revokeListenerLeases();
                if (ended) {
                    ch.close();
                    return;
                }
                configure(ch);
                if (clientLeg) {
                    clientAttached = true;
                    relay.attachClient(ch);
                    maybeConnectServer();
                } else {
                    serverAttached = true;
                    relay.attachServer(ch);
                }
                maybeStopDeadline();
            }

            @Override
            public void refused(InetSocketAddress from) {
                session.refusedDataConnection(from, clientLeg ? "client" : "server");
            }
        };
    }

    /** Starts the deadline for the announced connection(s). */
    void startDeadline() {
        long ms = session.settings().data().connectTimeout().toMillis();
        deadline = session.loop().schedule(() -> {
            if (!ended && kernelLease != null) {
                kernelDeadline(ms);
            } else if (!ended && !relay.isLinked()) {
                fail(Reason.DEADLINE, "no data connection within " + ms + " ms");
            }
        }, ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The kernel path's deadline: the lease ends now. Its connection, if made, goes on (conntrack
     * carries it); if none was made, the transfer fails as a relayed one would.
     */
    private void kernelDeadline(long ms) {
        session.services().leases().forwardConnected(kernelLease).whenComplete((connected, err) -> session.loop().execute(() -> {
            if (ended) {
                return;
            }
            if (err == null && connected) {
                log.debug("session {}: kernel-path data connection made; its rules are removed, it goes on", session.id());
                leases.forEach(LeaseHandle::revoke);
            } else {
                fail(Reason.DEADLINE, "no data connection within " + ms + " ms"
                        + (err == null ? "" : " (" + LeaseHandle.rootMessage(err) + ")"));
            }
        }));
    }

    // ---- transfer ---------------------------------------------------------------------------

    boolean isSpent() {
        return commandSent || ended;
    }

    /** Whether the transfer command was forwarded to the server. */
    boolean isCommandSent() {
        return commandSent;
    }

    boolean isEnded() {
        return ended;
    }

    /** The transfer command was forwarded to the server. */
    void commandSent(FtpCommand c) {
        commandSent = true;
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
        if (clientTarget != null && !clientConnecting && !ended && kernelLease == null) {
            clientConnecting = true;
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

    /** Ends the transfer now: closes listeners and legs, removes the leases. Idempotent. */
    void cancel(String why) {
        if (!ended) {
            log.debug("session {}: data connection cancelled: {}", session.id(), why);
            end(Outcome.CANCELLED);
        }
    }

    void fail(Reason reason, String detail) {
        if (ended) {
            return;
        }
        failure = reason;
        failureDetail = detail;
        session.metrics().refused(reason);
        log.warn("session {}: {} data connection failed: {} ({})", session.id(), mode.name(), reason.tag(), detail);
        end(Outcome.FAILED);
    }

    // ---- internals --------------------------------------------------------------------------

    private void maybeConnectServer() {
        if (serverTarget == null || serverConnecting || ended || kernelLease != null) {
            return;
        }
        // Connect when the client is there (PASV) or the command went out (PORT converted).
        if (clientAttached || commandSent) {
            serverConnecting = true;
            connect(serverTarget, ch -> {
                serverAttached = true;
                relay.attachServer(ch);
                maybeStopDeadline();
            }, "server");
        }
    }

    private void connectClient() {
        InetAddress local = session.clientLegLocal();
        if (session.settings().firewall().guardOutput()) {
            DataLease lease = new DataLease(session.id(), DataLease.Direction.OUTBOUND,
                    clientTarget.getAddress(), local, clientTarget.getPort(), session.clientLegTransparent());
            LeaseHandle[] h = new LeaseHandle[1];
            h[0] = session.applyLease(lease, err -> {
                if (err != null) {
                    fail(Reason.FIREWALL_FAILED, LeaseHandle.rootMessage(err));
                } else if (!ended) {
                    connect(clientTarget, this::clientConnected, "client");
                }
            });
            leases.add(h[0]);
        } else {
            connect(clientTarget, this::clientConnected, "client");
        }
    }

    private void clientConnected(Channel ch) {
        clientAttached = true;
        relay.attachClient(ch);
        // The connection exists; conntrack carries it from here, so the outbound lease goes.
        leases.forEach(LeaseHandle::revoke);
    }

    private void connect(InetSocketAddress target, java.util.function.Consumer<Channel> then, String leg) {
        Bootstrap b = new Bootstrap()
                .group(session.loop())
                .channel(session.services().transport().socketChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) session.settings().data().connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter());
        boolean clientLeg = leg.equals("client");
        if (clientLeg) {
            b.localAddress(new InetSocketAddress(session.clientLegLocal(), 0));
        } else if (session.serverLegTransparent()) {
            b.localAddress(new InetSocketAddress(session.serverLegLocal(), 0));
        }
        if (clientLeg ? session.clientLegTransparent() : session.serverLegTransparent()) {
            // The source is not one of the gateway's addresses (the server's or the client's).
            b.option(io.netty.channel.epoll.EpollChannelOption.IP_TRANSPARENT, true);
        }
        ChannelFuture f = b.connect(target);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                fail(Reason.CONNECT_FAILED, "connect to " + leg + " " + target + ": " + LeaseHandle.rootMessage(done.cause()));
                return;
            }
            if (ended) {
                f.channel().close();
                return;
            }
            then.accept(f.channel());
        });
    }

    private void configure(Channel ch) {
        ch.config().setWriteBufferWaterMark(waterMark());
    }

    private WriteBufferWaterMark waterMark() {
        var d = session.settings().data();
        return new WriteBufferWaterMark(d.writeBufferLow(), d.writeBufferHigh());
    }

    private void maybeStopDeadline() {
        boolean clientReady = clientAttached || clientTarget != null;
        boolean serverReady = serverAttached || serverTarget != null;
        if (clientReady && serverReady && deadline != null) {
            deadline.cancel(false);
        }
    }

    private void revokeListenerLeases() {
        leases.forEach(LeaseHandle::revoke);
    }

    private void relayFinished(long uploaded, long downloaded) {
        if (relay.wasReset()) {
            fail(Reason.DATA_RESET, uploaded + " bytes to server, " + downloaded + " bytes to client");
            return;
        }
        end(failure == null ? Outcome.COMPLETED : Outcome.FAILED);
    }

    private void end(Outcome outcome) {
        if (ended) {
            return;
        }
        ended = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        listeners.forEach(DataListener::close);
        leases.forEach(LeaseHandle::revoke);
        relay.close();
        GatewayMetrics m = session.metrics();
        m.dataConnectionEnded(mode, outcome);
        m.dataPathChosen(kernelLease != null ? Settings.DataPath.KERNEL : Settings.DataPath.RELAY);
        if (command != null) {
            m.transferEnded(kind(), mode, outcome, elapsedNanos(),
                    kernelLease != null ? -1 : relay.uploaded() + relay.downloaded());
        }
        if (relay.uploaded() > 0) {
            m.bytesRelayed(GatewayMetrics.Direction.UPLOAD, relay.uploaded());
        }
        if (relay.downloaded() > 0) {
            m.bytesRelayed(GatewayMetrics.Direction.DOWNLOAD, relay.downloaded());
        }
        session.transferEnded(this, outcome, relay.uploaded(), relay.downloaded());
    }

}
