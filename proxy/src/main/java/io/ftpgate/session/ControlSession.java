package io.ftpgate.session;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.GatewayMetrics.Outcome;
import io.ftpgate.policy.Addresses;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.Verbs;
import io.ftpgate.protocol.codec.BadCommand;
import io.ftpgate.protocol.codec.BadReply;
import io.ftpgate.protocol.codec.LineError;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's FTP control session through the gateway. Commands are handled strictly one at a
 * time (pipelined ones wait in {@link #inbox}): each is forwarded, answered locally, or rewritten
 * (the data-connection commands, see {@link DataNegotiation}), and the next waits until the client
 * has its answer, so replies always reach the client in command order. ABOR alone is sent at once
 * (RFC 959 §4.1.3: it may arrive during a transfer). Every way out goes through {@link #end}.
 */
public final class ControlSession {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");

    enum State { CONNECTING, GREETING, READY, ENDED }

    private final long id;
    private final String listener;
    private final Endpoint upstream;
    private final SessionServices services;
    private final Channel client;
    private final EventLoop loop;
    private final DataNegotiation negotiation;
    private final ArrayDeque<Object> inbox = new ArrayDeque<>();
    private final ArrayDeque<Exchange> awaiting = new ArrayDeque<>();
    private final ArrayDeque<FtpReply> held = new ArrayDeque<>();
    private final long startNanos = System.nanoTime();
    private Channel server;
    private State state = State.CONNECTING;
    private DataTransfer transfer;
    /** The latest negotiation, if it failed before its transfer command: the next one says why. */
    private DataTransfer failedTransfer;
    private boolean holding;
    private boolean hadLeases;

    ControlSession(Channel client, String listener, Endpoint upstream, SessionServices services) {
        this.id = services.registry().nextId();
        this.client = client;
        this.listener = listener;
        this.upstream = upstream;
        this.services = services;
        this.loop = client.eventLoop();
        this.negotiation = new DataNegotiation(this);
    }

    // ---- life cycle -------------------------------------------------------------------------

    /** The client connected: admit it and open the upstream connection. */
    void start() {
        if (!services.registry().admit(this)) {
            metrics().sessionRejected(listener);
            String why = services.registry().isDraining() ? "the gateway is shutting down" : "too many sessions";
            log.warn("session {} [{}] {}: refused, {}", id, listener, client.remoteAddress(), why);
            client.writeAndFlush(FtpReply.of(421, "Service not available: " + why + ", try again later"))
                    .addListener(ChannelFutureListener.CLOSE);
            state = State.ENDED;
            return;
        }
        metrics().sessionOpened(listener);
        log.info("session {} [{}] {} connected, opening {}", id, listener, client.remoteAddress(), upstream);
        long t0 = System.nanoTime();
        UpstreamConnector.connect(this, upstream.toSocketAddress()).addListener(f -> {
            if (!f.isSuccess()) {
                metrics().upstreamFailed(listener);
                String cause = LeaseHandle.rootMessage(f.cause());
                log.warn("session {}: cannot reach upstream {}: {}", id, upstream, cause);
                deliver(FtpReply.of(421, "Service not available: cannot reach the FTP server (" + cause + ")"));
                end("upstream unreachable");
                return;
            }
            metrics().upstreamConnected(listener, System.nanoTime() - t0);
            if (state == State.ENDED) {
                ((io.netty.channel.ChannelFuture) f).channel().close();
                return;
            }
            server = ((io.netty.channel.ChannelFuture) f).channel();
            state = State.GREETING;
            client.config().setAutoRead(true);
        });
    }

    /**
     * Ends the session once: closes both legs (after flushing what the client is owed) and every
     * data connection, removes the session's firewall leases, and logs and counts it.
     */
    void end(String why) {
        if (state == State.ENDED) {
            return;
        }
        state = State.ENDED;
        if (transfer != null) {
            transfer.cancel("session ended");
        }
        holding = false;
        held.forEach(client::write);
        held.clear();
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        if (server != null) {
            server.close();
        }
        if (hadLeases) {
            // Belt and braces: every lease handle revokes itself, this catches any race.
            services.leases().revokeSession(id);
        }
        services.registry().remove(this);
        long nanos = System.nanoTime() - startNanos;
        metrics().sessionClosed(listener, nanos);
        log.info("session {} ended after {} s: {}", id, String.format("%.1f", nanos / 1e9), why);
    }

    /** Ends the session from another thread (shutdown). */
    void endFromOutside(String why) {
        loop.execute(() -> {
            deliver(FtpReply.of(421, "Service not available: " + why));
            end(why);
        });
    }

    // ---- from the client --------------------------------------------------------------------

    void clientMessage(Object msg) {
        if (state == State.ENDED) {
            return;
        }
        if (msg instanceof FtpCommand cmd) {
            log.debug("session {} C> {}", id, cmd.toLogString());
            if (cmd.is("ABOR") && !awaiting.isEmpty()) {
                negotiation.abort(cmd);
                return;
            }
            inbox.add(cmd);
        } else if (msg instanceof LineError err) {
            log.info("session {}: client sent a bad line: {} {}", id, err.kind(), err.detail());
            inbox.add(switch (err.kind()) {
                case TOO_LONG -> FtpReply.of(500, "Command line too long (at most "
                        + settings().control().maxLineLength() + " bytes)");
                case NUL -> FtpReply.of(500, "Command contains a NUL byte");
                case BARE_LF -> FtpReply.of(500, "Command must end with CRLF");
            });
        } else if (msg instanceof BadCommand bad) {
            log.info("session {}: client sent an invalid command: {} ({})", id, bad.escapedLine(), bad.error().getMessage());
            inbox.add(FtpReply.of(500, "Syntax error, command unrecognized"));
        }
        if (inbox.size() >= settings().control().maxPipelinedCommands()) {
            client.config().setAutoRead(false);
        }
        pump();
    }

    void clientIdle() {
        if (transfer != null && !transfer.isEnded() && transfer.isSpent()) {
            return; // a transfer is running; the control connection is quiet by design
        }
        log.info("session {}: idle for {}, closing", id, settings().control().idleTimeout());
        deliver(FtpReply.of(421, "Idle timeout, closing control connection"));
        end("idle timeout");
    }

    /** Handles queued client input while nothing is outstanding. */
    private void pump() {
        while (state == State.READY && awaiting.isEmpty() && !inbox.isEmpty()) {
            Object next = inbox.poll();
            if (next instanceof FtpReply local) {
                deliver(local);
            } else {
                negotiation.handle((FtpCommand) next);
            }
        }
        if (state == State.READY && inbox.size() < settings().control().maxPipelinedCommands() / 2
                && !client.config().isAutoRead()) {
            client.config().setAutoRead(true);
        }
    }

    // ---- from the server --------------------------------------------------------------------

    void serverMessage(Object msg) {
        if (state == State.ENDED) {
            return;
        }
        if (msg instanceof FtpReply reply) {
            log.debug("session {} S> {}", id, reply.lines().get(0));
            serverReply(reply);
        } else {
            String what = msg instanceof BadReply b ? b.escapedLine() + " (" + b.error().getMessage() + ")"
                    : msg instanceof LineError e ? e.kind() + " " + e.detail() : String.valueOf(msg);
            log.warn("session {}: the server sent an invalid reply: {}", id, what);
            deliver(FtpReply.of(421, "Service not available: the FTP server sent an invalid reply"));
            end("invalid reply from server");
        }
    }

    private void serverReply(FtpReply reply) {
        if (state == State.GREETING) {
            deliver(reply);
            if (reply.isPositiveCompletion()) {
                state = State.READY;
                pump();
            } else if (reply.isFinal()) {
                end("server refused the session: " + reply.code());
            }
            return;
        }
        Exchange head = null;
        for (Exchange e : awaiting) {
            if (e.wantsReplies()) {
                head = e;
                break;
            }
        }
        if (head == null) {
            // Unsolicited (e.g. 421 before the server closes): pass it on.
            deliver(reply);
            return;
        }
        head.reply(reply);
        exchangeCompleted();
    }

    /** Drops completed exchanges from the front and continues with the inbox. */
    void exchangeCompleted() {
        while (!awaiting.isEmpty() && awaiting.peek().isComplete()) {
            awaiting.poll();
        }
        pump();
    }

    void serverClosed() {
        end("server closed the control connection");
    }

    void clientClosed() {
        end("client closed the control connection");
    }

    // ---- used by the negotiation and the transfer ----------------------------------------------

    /** Sends {@code command} to the server, with {@code exchange} taking its replies. */
    void forward(FtpCommand command, Exchange exchange) {
        exchange.bind(this);
        awaiting.add(exchange);
        sendToServer(command);
    }

    /** Holds the queue for local work that sends nothing to the server. */
    void forwardLocal(Exchange exchange) {
        exchange.bindLocal(this);
        awaiting.add(exchange);
    }

    void sendToServer(FtpCommand command) {
        if (server != null && server.isActive()) {
            server.writeAndFlush(command);
        }
    }

    /** Sends a reply to the client, after the replies held for a running transfer. */
    void deliver(FtpReply reply) {
        if (holding) {
            held.add(reply);
        } else if (client.isActive()) {
            client.writeAndFlush(reply);
        }
    }

    /**
     * The final reply to a transfer command. Sent now unless the transfer's data is still on its way
     * to the client, in which case it and everything after it waits for the data (the client must
     * not read "226 complete" while bytes are still in the gateway).
     */
    void transferReply(DataTransfer t, FtpReply reply) {
        if (!t.isEnded() && reply.isPositiveCompletion()) {
            holding = true;
            held.add(reply);
        } else if (!t.isEnded()) {
            t.cancel("server answered " + reply.code());
            deliver(reply);
        } else if (t.failure() != null && reply.isPositiveCompletion()) {
            // The data connection already failed (e.g. the client's leg): no success to report.
            deliver(failureReply(t));
        } else {
            deliver(reply);
        }
    }

    private static FtpReply failureReply(DataTransfer t) {
        int code = t.failure().replyCode() == 0 ? 426 : t.failure().replyCode();
        return FtpReply.of(code, t.failure().text(t.failureDetail()));
    }

    void refuse(Reason reason, Object... args) {
        metrics().refused(reason);
        log.info("session {}: refused: {}", id, reason.tag());
        deliver(FtpReply.of(reason.replyCode(), reason.text(args)));
    }

    void refusedDataConnection(InetSocketAddress from, String leg) {
        metrics().refused(Reason.WRONG_PEER);
        log.warn("session {}: closed a {} data connection from unexpected address {}", id, leg, from);
    }

    DataTransfer transfer() {
        return transfer;
    }

    /** The latest negotiation if it failed before a transfer command could use it, else null. */
    DataTransfer failedTransfer() {
        return failedTransfer;
    }

    void transfer(DataTransfer t) {
        if (transfer != null && transfer != t) {
            transfer.cancel("replaced by a new negotiation");
        }
        transfer = t;
        failedTransfer = null;
    }

    /** Called by a transfer when it ends, however it ends. */
    void transferEnded(DataTransfer t, Outcome outcome, long uploaded, long downloaded) {
        if (transfer == t) {
            transfer = null;
            if (t.failure() != null && !t.isCommandSent()) {
                failedTransfer = t;
            }
        }
        log.info("session {}: {} data connection {}: {} bytes to server, {} bytes to client", id,
                t.mode.name(), outcome.name().toLowerCase(), uploaded, downloaded);
        if (holding) {
            holding = false;
            FtpReply first = held.peek();
            if (t.failure() != null && first != null && first.isPositiveCompletion()) {
                // The server finished, but the client's leg failed: the client must not see success.
                held.poll();
                held.addFirst(failureReply(t));
            }
            Iterator<FtpReply> it = held.iterator();
            while (it.hasNext()) {
                FtpReply r = it.next();
                it.remove();
                deliver(r);
            }
        }
    }

    LeaseHandle applyLease(DataLease lease, Consumer<Throwable> done) {
        hadLeases = true;
        return LeaseHandle.apply(lease, services.leases(), metrics(), loop, done);
    }

    // ---- facts ------------------------------------------------------------------------------

    public long id() {
        return id;
    }

    EventLoop loop() {
        return loop;
    }

    Settings settings() {
        return services.settings();
    }

    SessionServices services() {
        return services;
    }

    GatewayMetrics metrics() {
        return services.metrics();
    }

    Channel clientChannel() {
        return client;
    }

    InetAddress clientAddress() {
        return Addresses.unmap(((InetSocketAddress) client.remoteAddress()).getAddress());
    }

    InetAddress clientLocalAddress() {
        return Addresses.unmap(((InetSocketAddress) client.localAddress()).getAddress());
    }

    InetAddress serverAddress() {
        return Addresses.unmap(((InetSocketAddress) server.remoteAddress()).getAddress());
    }

    InetAddress serverLocalAddress() {
        return Addresses.unmap(((InetSocketAddress) server.localAddress()).getAddress());
    }

    boolean isReady() {
        return state == State.READY;
    }

    static boolean isTransfer(FtpCommand c) {
        return Verbs.isTransfer(c.verb());
    }
}
