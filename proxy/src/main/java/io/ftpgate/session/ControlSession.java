package io.ftpgate.session;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.data.DataListener;
import io.ftpgate.data.ProxyHeaderOutcome;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.GatewayMetrics.Outcome;
import io.ftpgate.policy.Addresses;
import io.ftpgate.policy.Reason;
import io.ftpgate.policy.ReplyPolicy;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpParseException;
import io.ftpgate.protocol.ForwardLogin;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.LogText;
import io.ftpgate.log.DecimalSeconds;
import io.ftpgate.log.TransferLog;
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
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's FTP control session through the gateway. Commands are handled strictly one at a
 * time (pipelined ones wait in {@link #inbox}): each is forwarded, answered locally, or rewritten
 * (see {@link CommandRouter}), and the next waits until the client
 * has its answer, so replies always reach the client in command order. ABOR alone is sent at once
 * (RFC 959 §4.1.3: it may arrive during a transfer). Every way out goes through {@link #end}.
 */
public final class ControlSession {
    private static final Logger log = LoggerFactory.getLogger("ftpgate.session");

    /** SECURING: the server greeted and the gateway is securing the server leg before the client hears of it. */
    enum State { AWAIT_USER, CONNECTING, GREETING, SECURING, READY, ENDED }

    private final long id;
    private final String listener;
    private final Settings.Mode mode;
    private final Endpoint upstream;
    private final SessionServices services;
    private final Channel client;
    private final EventLoop loop;
    private final CommandRouter router;
    private final ClientLegTls clientTls;
    private final ServerLegTls serverTls;
    private final ServerLegSecuring securing;
    /** The server's name as configured or asked for (SNI and certificate check on the server leg). */
    private String serverName;
    // The session's queues hold a command or two at a time: room for 2 (an array of 3 slots, 32
    // bytes) instead of the default 16 (88 bytes) saves about 220 bytes of each idle session's
    // 4.6 KiB with the two below (README, "Sizing one gateway"); they grow when a client pipelines.
    private final ArrayDeque<Object> inbox = new ArrayDeque<>(2);
    private final ArrayDeque<Exchange> awaiting = new ArrayDeque<>(2);
    private final ReplyHold replies = new ReplyHold(this::write, this::flushClient);
    private final CommandPacer pacer;
    private final OwedReplies owed = new OwedReplies(replies, this::unanswered);
    /** The client command being worked on (the latest taken from the inbox); null before the first. */
    private OwedReplies.Owed current;
    private final long startNanos = System.nanoTime();
    /** When the server last said something (the start, before it could). */
    private long lastServerNanos = startNanos;
    private Channel server;
    private State state = State.CONNECTING;
    private DataTransfer transfer;
    /** The latest negotiation, if it failed before its transfer command: the next one says why. */
    private DataTransfer failedTransfer;
    /** A transfer whose relay ended cleanly and whose record waits for the server's final reply. */
    private DataTransfer awaitingRecord;
    private boolean hadLeases;
    /** The server accepted a login (230) and no REIN came since: a passive port may be opened before it answers PASV. */
    private boolean loggedIn;
    private boolean quitSent;
    /** The code of the last reply written to the client. */
    private int lastCode;
    /** Forward mode: the user name to log in with once the named server has greeted. */
    private String forwardUser;
    /** Set once the server's control connection is up. */
    private LegAddresses legs;
    /** The client as a trusted PROXY protocol header named it; null without one. */
    private InetSocketAddress proxiedClient;
    /** This session's listener in the settings it started with; null if they have none of its name (tests). */
    private final Settings.Listener listenerSettings;

    ControlSession(Channel client, String listener, Settings.Mode mode, Endpoint upstream, SessionServices services,
                   LegTls tls) {
        this.id = services.registry().nextId();
        this.client = client;
        this.listener = listener;
        this.mode = mode;
        this.upstream = upstream;
        this.services = services;
        this.loop = client.eventLoop();
        this.clientTls = new ClientLegTls(tls);
        this.serverTls = new ServerLegTls(tls);
        this.securing = new ServerLegSecuring(this);
        this.router = new CommandRouter(this);
        this.listenerSettings = services.settings().listeners().stream().filter(l -> l.name().equals(listener))
                .findFirst().orElse(null);
        this.pacer = new CommandPacer(services.settings().abuse().commandsPerSecond(), services.settings().abuse().commandBurst());
    }

    // ---- life cycle -------------------------------------------------------------------------

    /** The client connected: admit it and open the upstream connection. */
    void start() {
        var refusal = Admission.check(this);
        if (refusal.isPresent()) {
            metrics().sessionRejected(listener);
            metrics().refused(refusal.get().reason());
            log.warn("session {} [{}] {}: refused: {}", id, listener, text(clientRemote()), refusal.get().reason().tag());
            client.writeAndFlush(FtpReply.of(421, refusal.get().reason().text(refusal.get().args())))
                    .addListener(ChannelFutureListener.CLOSE);
            state = State.ENDED;
            return;
        }
        metrics().sessionOpened(listener);
        switch (mode) {
            case EXPLICIT -> {
                serverName = upstream.host();
                if (upstream.isLiteral()) {
                    connectUpstream(upstream.toSocketAddress());
                } else {
                    lookUp(upstream, this::connectUpstream, cause -> {
                        metrics().upstreamFailed(listener);
                        log.warn("session {}: cannot resolve upstream {}: {}", id, upstream, cause);
                        deliver(FtpReply.of(421, "Service not available: cannot reach the FTP server (" + cause + ")"));
                        end("upstream unknown");
                    });
                }
            }
            case TRANSPARENT -> {
                // TPROXY keeps the original destination as the accepted socket's local address.
                InetSocketAddress original = (InetSocketAddress) client.localAddress();
                InetSocketAddress target = new InetSocketAddress(Addresses.unmap(original.getAddress()), original.getPort());
                serverName = target.getAddress().getHostAddress();
                if (destinationAllowed(target)) {
                    connectUpstream(target);
                }
            }
            case FORWARD -> {
                state = State.AWAIT_USER;
                log.info("session {} [{}] {} connected, waiting for USER name@host", id, listener, text(clientRemote()));
                deliver(FtpReply.of(220, "ftpgate: log in as USER name@host[:port] to reach an FTP server"));
                client.config().setAutoRead(true);
            }
        }
    }

    /** Checks a transparent or forward destination; a refusal is answered, logged and counted here. */
    private boolean destinationAllowed(InetSocketAddress target) {
        var refusal = services.destinations().check(target);
        if (refusal.isEmpty()) {
            return true;
        }
        metrics().refused(refusal.get());
        log.warn("session {}: destination {} refused: {}", id, target, refusal.get().tag());
        if (state == State.AWAIT_USER) {
            deliver(FtpReply.of(530, "Login refused: " + refusal.get().text()));
        } else {
            deliver(FtpReply.of(421, "Service not available: " + refusal.get().text()));
            end("destination refused");
        }
        return false;
    }

    private void connectUpstream(InetSocketAddress target) {
        state = State.CONNECTING;
        log.info("session {} [{}] {} connected, opening {}", id, listener, text(clientRemote()), text(target));
        long t0 = System.nanoTime();
        InetAddress from = mode == Settings.Mode.TRANSPARENT && settings().transparent().preserveClientAddress()
                ? clientAddress() : null;
        // Not inline: this may run while the loop handles an I/O batch (see NewSockets).
        io.ftpgate.data.NewSockets.afterIoBatch(loop, () -> guard(() -> {
            if (state == State.ENDED) {
                // Its end was logged with its reason (a client that left: "client closed ...").
                log.debug("session {}: ended before the connection to {} was opened", id, text(target));
                return;
            }
            io.netty.handler.ssl.SslHandler tls = null;
            if (serverTls.implicit()) {
                try {
                    tls = serverTls.controlHandler(client.alloc(), serverName, target.getPort());
                } catch (javax.net.ssl.SSLException e) {
                    securing.failed("cannot build the TLS client: " + e.getMessage());
                    return;
                }
                securing.watchImplicit(tls);
            }
            services.dialer().dial(this, target, from, tls).addListener(f -> guard(() -> upstreamDialled(
                    (io.netty.channel.ChannelFuture) f, target, t0)));
        }));
    }

    private void upstreamDialled(io.netty.channel.ChannelFuture f, InetSocketAddress target, long t0) {
        if (state == State.ENDED) {
            // Ended meanwhile (a client that left, logged by end() with its reason): not the server's fault,
            // whatever became of the connect.
            log.debug("session {}: ended while the connection to {} was being opened", id, text(target));
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            metrics().upstreamFailed(listener);
            String cause = LeaseHandle.rootMessage(f.cause());
            log.warn("session {}: cannot reach upstream {}: {}", id, target, cause);
            deliver(FtpReply.of(421, "Service not available: cannot reach the FTP server (" + cause + ")"));
            end("upstream unreachable");
            return;
        }
        metrics().upstreamConnected(listener, System.nanoTime() - t0);
        server = f.channel();
        legs = LegAddresses.of(mode, settings().transparent(), clientRemote(),
                (InetSocketAddress) client.localAddress(), (InetSocketAddress) server.remoteAddress(),
                (InetSocketAddress) server.localAddress());
        state = State.GREETING;
        client.config().setAutoRead(true);
    }

    /**
     * Forward mode, before the server is known: USER name@host[:port] names it (IPv6 in brackets);
     * QUIT, NOOP, FEAT and AUTH are answered; anything else asks for that login first.
     */
    private void awaitingUser(FtpCommand c) {
        switch (c.verb()) {
            case "USER" -> {
                if (clientTls.offered() && clientTls.settings().clientLeg().required() && !clientTls.isActive()) {
                    refuse(Reason.TLS_REQUIRED);
                    return;
                }
                ForwardLogin login;
                Endpoint dest;
                try {
                    login = ForwardLogin.parse(c.argument());
                    dest = Endpoint.parse(login.endpointText());
                } catch (FtpParseException | IllegalArgumentException e) {
                    refuse(Reason.NO_DESTINATION);
                    return;
                }
                forwardUser = login.user();
                serverName = login.host();
                resolveAndConnect(dest);
            }
            case "QUIT" -> {
                deliver(FtpReply.of(221, "Goodbye"));
                end("client quit before login");
            }
            case "NOOP" -> deliver(FtpReply.of(200, "NOOP ok"));
            case "AUTH", "PBSZ", "PROT", "CCC" -> router.tlsCommand(c);
            case "FEAT" -> deliver(clientTls.offered()
                    ? new FtpReply(211, featuresBeforeUser())
                    : FtpReply.of(211, "No features before USER name@host"));
            default -> refuse(Reason.NO_DESTINATION);
        }
    }

    private void resolveAndConnect(Endpoint dest) {
        state = State.CONNECTING;
        InetSocketAddress literal = dest.isLiteral() ? dest.toSocketAddress() : null;
        if (literal != null) {
            connectIfAllowed(literal);
            return;
        }
        lookUp(dest, this::connectIfAllowed, cause -> {
            log.info("session {}: cannot resolve {}: {}", id, LogText.escape(dest.host()), cause);
            state = State.AWAIT_USER;
            refuse(Reason.UNKNOWN_HOST, LogText.escape(dest.host()));
            pump();
        });
    }

    /**
     * Resolves a host name without blocking the loop (see {@link HostLookup}), then calls
     * {@code found} or {@code unknown} (with why) on the loop, unless the session ended meanwhile.
     */
    private void lookUp(Endpoint dest, Consumer<InetSocketAddress> found, Consumer<String> unknown) {
        HostLookup.resolve(services.resolvers(), loop, dest.host(), dest.port(), settings().control().dnsTimeout())
                .addListener(f -> guard(() -> {
                    if (state == State.ENDED) {
                        return;
                    }
                    if (f.isSuccess()) {
                        found.accept((InetSocketAddress) f.getNow());
                    } else {
                        unknown.accept(LeaseHandle.rootMessage(f.cause()));
                    }
                }));
    }

    private void connectIfAllowed(InetSocketAddress target) {
        state = State.AWAIT_USER;
        if (destinationAllowed(target)) {
            connectUpstream(target);
        } else {
            pump();
        }
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
            // Reset, not closed: with no control connection left, a clean end would pass for success.
            transfer.abort("session ended");
        }
        if (awaitingRecord != null) {
            awaitingRecord.recordWithoutReply();
        }
        replies.release(null);
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        if (server != null) {
            server.close();
        }
        if (hadLeases) {
            // Belt and braces: every lease handle revokes itself, this catches any race.
            services.leases().revokeLeftovers(id);
        }
        services.registry().remove(this);
        long nanos = System.nanoTime() - startNanos;
        metrics().sessionClosed(listener, nanos);
        log.info("session {} ended after {} s: {}", id, DecimalSeconds.of(nanos, 1), why);
    }

    private java.util.List<String> featuresBeforeUser() {
        java.util.List<String> lines = new java.util.ArrayList<>();
        lines.add("211-Features before USER name@host:");
        lines.addAll(FeatFilter.tlsFeatures(clientTls));
        lines.add("211 End");
        return lines;
    }

    /** Implicit FTPS on the client leg: the handshake started with the connection; a failure ends the session. */
    void watchImplicitClientTls() {
        io.netty.handler.ssl.SslHandler h = (io.netty.handler.ssl.SslHandler) client.pipeline().get(PipelineNames.TLS);
        long start = System.nanoTime();
        h.handshakeFuture().addListener(f -> {
            long nanos = System.nanoTime() - start;
            metrics().tlsHandshake(GatewayMetrics.TlsLeg.CLIENT, GatewayMetrics.TlsChannel.CONTROL, false, f.isSuccess(), nanos);
            if (f.isSuccess()) {
                clientTls.established(false);
                log.info("session {}: client leg secured, implicit ({}, {})", id, h.engine().getSession().getProtocol(),
                        h.engine().getSession().getCipherSuite());
            } else {
                log.info("session {}: implicit TLS handshake with the client failed: {}", id, LeaseHandle.rootMessage(f.cause()));
                end("client TLS handshake failed");
            }
        });
    }

    /**
     * Runs an asynchronous callback of this session (a lease, bind, connect or look-up result) on
     * its loop. If it throws, the session ends with that as its reason — logged with the session's
     * id, counted, and a 421 to the client — instead of the exception going to Netty and the session
     * stalling until the idle timeout blames the server.
     */
    void guard(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("session {}: internal error, ending the session: {}", id, e.toString(), e);
            if (state != State.ENDED) {
                metrics().refused(Reason.INTERNAL_ERROR);
                deliver(FtpReply.of(Reason.INTERNAL_ERROR.replyCode(), Reason.INTERNAL_ERROR.text(id)));
                end("internal error: " + e);
            }
        }
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
            metrics().command(Verbs.isKnown(cmd.verb()) ? cmd.verb() : "OTHER");
            quitSent |= cmd.is("QUIT");
            if (cmd.is("ABOR") && !awaiting.isEmpty()) {
                // Its own place among the owed replies, after the command still being worked on.
                OwedReplies.Owed working = current;
                current = owed.open(cmd.verb());
                try {
                    router.abort(cmd);
                } finally {
                    current = working;
                }
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
        long idleNanos = settings().control().idleTimeout().toNanos();
        boolean waitingForServer = state == State.CONNECTING || state == State.GREETING || state == State.SECURING
                || !awaiting.isEmpty();
        if (waitingForServer && System.nanoTime() - lastServerNanos >= idleNanos) {
            log.info("session {}: the server did not answer for {}, closing", id, settings().control().idleTimeout());
            deliver(FtpReply.of(421, "Service not available: the FTP server did not answer"));
            end("server did not answer");
            return;
        }
        if (waitingForServer || !inbox.isEmpty()) {
            // The server is answering (it spoke within the timeout), or commands wait for their
            // turn or for the command rate (CommandPacer): the client is not idle.
            return;
        }
        log.info("session {}: idle for {}, closing", id, settings().control().idleTimeout());
        deliver(FtpReply.of(421, "Idle timeout, closing control connection"));
        end("idle timeout");
    }

    /** Handles queued client input while nothing is outstanding. */
    private void pump() {
        while ((state == State.READY || state == State.AWAIT_USER) && awaiting.isEmpty() && !inbox.isEmpty()) {
            if (inbox.peek() instanceof FtpCommand && !pacer.admit(this, this::pump)) {
                break; // over the command rate: pump again when the next may go
            }
            Object next = inbox.poll();
            // The previous command is done: if it has no final reply yet, it gets one now.
            owed.settle(current);
            current = owed.open(next instanceof FtpCommand c ? c.verb() : "");
            if (next instanceof FtpReply local) {
                deliver(local);
            } else if (state == State.AWAIT_USER) {
                awaitingUser((FtpCommand) next);
            } else {
                router.handle((FtpCommand) next);
            }
        }
        if ((state == State.READY || state == State.AWAIT_USER) && inbox.size() < settings().control().maxPipelinedCommands() / 2
                && !client.config().isAutoRead()) {
            client.config().setAutoRead(true);
        }
    }

    // ---- from the server --------------------------------------------------------------------

    void serverMessage(Object msg) {
        if (state == State.ENDED) {
            return;
        }
        lastServerNanos = System.nanoTime();
        if (msg instanceof FtpReply reply) {
            log.debug("session {} S> {}", id, LogText.escape(reply.lines().get(0)));
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
        Exchange head = null;
        if (state != State.GREETING) {
            for (Exchange e : awaiting) {
                if (e.wantsReplies()) {
                    head = e;
                    break;
                }
            }
        }
        String verb = head == null ? null : head.verb();
        var violation = state == State.GREETING ? ReplyPolicy.checkGreeting(reply) : ReplyPolicy.check(verb, reply);
        if (violation.isPresent()) {
            unexpectedReply(violation.get(), reply, state == State.GREETING ? "the greeting" : verb);
            return;
        }
        if (state == State.GREETING && forwardUser != null) {
            // Forward mode: the client had the gateway's greeting; now log in as the client asked.
            if (!reply.isFinal()) {
                return;
            }
            if (reply.isPositiveCompletion()) {
                secureServerLegThen(() -> {
                    state = State.READY;
                    forward(FtpCommand.of("USER", forwardUser), new Passthrough(this, true));
                });
            } else {
                deliver(FtpReply.of(421, "Service not available: the FTP server refused the session ("
                        + reply.code() + ")"));
                end("server refused the session: " + reply.code());
            }
            return;
        }
        if (state == State.GREETING) {
            if (reply.isPositiveCompletion()) {
                // The client hears the greeting once the server leg is as secure as asked.
                secureServerLegThen(() -> {
                    deliver(reply);
                    state = State.READY;
                    pump();
                });
            } else if (reply.isFinal()) {
                deliver(reply);
                end("server refused the session: " + reply.code());
            } else {
                deliver(reply);
            }
            return;
        }
        if (head == null) {
            // A 421 before the server closes: pass it on.
            deliver(reply);
            return;
        }
        head.reply(reply);
        exchangeCompleted();
    }

    /**
     * A reply that must not be relayed (see {@link ReplyPolicy}): logged and counted, then dropped
     * or, by default, the session ends with a 421 that says why.
     */
    private void unexpectedReply(Reason reason, FtpReply reply, String answering) {
        String code = Integer.toString(reply.code());
        metrics().refused(reason);
        boolean close = settings().control().unexpectedReplies() == Settings.ReplyViolations.CLOSE;
        log.warn("session {}: the server sent {} {} ({}); not relayed{}", id, reply.lines().get(0).length() > 200
                        ? LogText.escape(reply.lines().get(0).substring(0, 200)) + "..." : LogText.escape(reply.lines().get(0)),
                answering == null ? "while no command was outstanding" : "in answer to " + answering,
                reason.tag(), close ? ", closing the session" : ", dropped");
        if (close) {
            deliver(FtpReply.of(421, reason == Reason.UNSOLICITED_REPLY ? reason.text(code)
                    : reason.text(code + (answering == null ? "" : " in answer to " + answering))));
            end("unexpected reply from server: " + reason.tag());
        }
    }

    /**
     * After the server's greeting: secures the server leg if the listener asks for it (AUTH TLS,
     * or the implicit handshake already made; then PBSZ and PROT), then runs {@code then}.
     */
    private void secureServerLegThen(Runnable then) {
        if (!serverTls.wanted(clientTls.settings().clientLegImplicit())) {
            then.run();
            return;
        }
        state = State.SECURING;
        securing.secure(!serverTls.implicit(), then);
    }

    /** An exchange working for {@code owner} completed (see {@link Exchange#complete()}). */
    void exchangeCompleted(OwedReplies.Owed owner) {
        owed.exchangeCompleted(owner);
        exchangeCompleted();
    }

    /**
     * The reply for a command whose work ended without one (see {@link OwedReplies}): 425 for a
     * cancelled data negotiation, 451 otherwise; logged and counted.
     */
    private FtpReply unanswered(OwedReplies.Owed o) {
        Reason reason = switch (o.verb) {
            case "PASV", "EPSV", "PORT", "EPRT" -> Reason.NEGOTIATION_CANCELLED;
            default -> Reason.NO_ANSWER;
        };
        metrics().refused(reason);
        log.info("session {}: {} ended without a reply for the client: {}", id, o.verb.isEmpty() ? "a line" : o.verb, reason.tag());
        return FtpReply.of(reason.replyCode(), reason.text());
    }

    /** Drops completed exchanges from the front and continues with the inbox. */
    void exchangeCompleted() {
        while (!awaiting.isEmpty() && awaiting.peek().isComplete()) {
            awaiting.poll();
        }
        pump();
    }

    void serverClosed() {
        if (!quitSent && lastCode != 421 && lastCode != 221 && state != State.ENDED) {
            // Tell the client why its connection goes away, unless the server already did.
            deliver(FtpReply.of(421, "Service not available: the FTP server closed the connection"));
        }
        end(quitSent ? "client quit" : "server closed the control connection");
    }

    void clientClosed() {
        end("client closed the control connection");
    }

    // ---- used by the negotiation and the transfer ----------------------------------------------

    /** Sends {@code command} to the server, with {@code exchange} taking its replies. */
    void forward(FtpCommand command, Exchange exchange) {
        exchange.bind(this, command.verb(), current);
        owed.exchangeStarted(current);
        awaiting.add(exchange);
        sendToServer(command);
    }

    /**
     * Sends a command of the gateway's own (securing the server leg) that answers no client
     * command: its completion must not count as the end of the client command being worked on
     * (forward mode's USER name@host waits for it, and is answered by the server's reply to the
     * USER that follows).
     */
    void forwardOwnCommand(FtpCommand command, Exchange exchange) {
        exchange.bind(this, command.verb(), null);
        awaiting.add(exchange);
        sendToServer(command);
    }

    /** Holds the queue for local work that sends nothing to the server. */
    void forwardLocal(Exchange exchange) {
        exchange.bindLocal(this, current);
        owed.exchangeStarted(current);
        awaiting.add(exchange);
    }

    void sendToServer(FtpCommand command) {
        if (server != null && server.isActive()) {
            server.writeAndFlush(command);
        }
    }

    /**
     * Sends a reply to the client for the command being worked on, after the replies owed to older
     * commands and those held for a running transfer.
     */
    void deliver(FtpReply reply) {
        owed.deliver(current, reply);
    }

    /** Sends a reply for {@code owner}'s command (see {@link OwedReplies}). */
    void deliver(OwedReplies.Owed owner, FtpReply reply) {
        owed.deliver(owner, reply);
    }

    private void flushClient() {
        client.flush();
    }

    private void write(FtpReply reply) {
        lastCode = reply.code();
        if (client.isActive()) {
            metrics().reply(reply.code());
            client.write(reply);
        }
    }

    /**
     * The final reply to a transfer command. Sent now unless the transfer's data is still on its way
     * to the client, in which case it and everything after it waits for the data (the client must
     * not read "226 complete" while bytes are still in the gateway).
     */
    void transferReply(DataTransfer t, FtpReply reply) {
        t.finalReply(reply);
        if (!t.isEnded() && t.isKernel()) {
            // The kernel moved the bytes: nothing of them is in the gateway to wait for.
            t.kernelFinished(reply);
            deliver(reply);
        } else if (!t.isEnded() && reply.isPositiveCompletion()) {
            owed.hold(current, reply);
        } else if (!t.isEnded()) {
            t.cancel("server answered " + reply.code());
            deliver(reply);
        } else if (t.failure() != null && (reply.isPositiveCompletion() || t.failure() == Reason.DATA_IDLE)) {
            // The data connection already failed (e.g. the client's leg): no success to report;
            // a stalled one's 426 says why, whatever the server answers to the reset.
            deliver(failureReply(t));
        } else {
            deliver(reply);
        }
    }

    void loginEnded(boolean success) {
        loggedIn = success;
        metrics().login(listener, success);
        log.info("session {}: login {}", id, success ? "succeeded" : "failed");
        LoginGuard.loginEnded(this, success);
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

    void refusedDataConnection(InetSocketAddress from, InetSocketAddress via, String leg) {
        metrics().refused(Reason.WRONG_PEER);
        log.warn("session {}: closed a {} data connection from unexpected address {}{}", id, leg, text(from),
                via == null ? "" : " (PROXY header from " + text(via) + ")");
    }

    /** A data connection through the load balancer: what its PROXY header led to. */
    void dataProxyHeader(InetSocketAddress peer, ProxyHeaderOutcome outcome, String detail, String leg) {
        metrics().proxyHeader(outcome);
        if (outcome == ProxyHeaderOutcome.PROXIED) {
            log.debug("session {}: {} data connection from {}: PROXY header names {}", id, leg, text(peer), detail);
        } else {
            log.warn("session {}: closed a {} data connection from {}: {}", id, leg, text(peer), detail);
        }
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
        if (t.isRecordPending()) {
            awaitingRecord = t;
        }
        // The server finished, but if the client's leg failed, the client must not see success.
        replies.release(t.failure() == null ? null : failureReply(t));
    }

    /** A transfer's record: one line per transfer, like xferlog (who, where, what, how much, how long, how it ended). */
    void transferRecorded(DataTransfer t, Outcome outcome, Reason reason, long bytes) {
        if (awaitingRecord == t) {
            awaitingRecord = null;
        }
        // On the kernel path the bytes never reach ftpgate: their number is unknown, and said so.
        TransferLog.ended(id, clientAddress(), legs == null ? null : legs.server(), t.kind(), t.command(),
                bytes, t.elapsedNanos(), t.mode.name(), t.isKernel(), t.relayText(), outcome, reason);
    }

    LeaseHandle applyLease(DataLease lease, Consumer<Throwable> done) {
        hadLeases = true;
        return LeaseHandle.apply(lease, services.leases(), metrics(), loop, err -> guard(() -> done.accept(err)));
    }

    LeaseHandle applyForwardLease(ForwardLease lease, Consumer<Throwable> done) {
        hadLeases = true;
        return LeaseHandle.applyForward(lease, services.leases(), metrics(), loop, err -> guard(() -> done.accept(err)));
    }

    /** An address as admins write it: 2001:db8::2 and [2001:db8::2]:21, not Java's long forms. */
    static String text(java.net.SocketAddress a) {
        return a instanceof InetSocketAddress i && i.getAddress() != null
                ? io.netty.util.NetUtil.toSocketAddressString(new InetSocketAddress(Addresses.unmap(i.getAddress()), i.getPort()))
                : String.valueOf(a);
    }

    // ---- facts ------------------------------------------------------------------------------

    public long id() {
        return id;
    }

    Settings.Mode mode() {
        return mode;
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

    /** The session log (every line starts with the session number). */
    static Logger log() {
        return log;
    }


    Channel clientChannel() {
        return client;
    }

    Channel serverChannel() {
        return server;
    }

    ClientLegTls clientTls() {
        return clientTls;
    }

    ServerLegTls serverTls() {
        return serverTls;
    }

    ServerLegSecuring securing() {
        return securing;
    }

    String serverName() {
        return serverName;
    }

    boolean isEnded() {
        return state == State.ENDED;
    }

    /** Whether the server accepted a login (230) since the start or the last REIN. */
    boolean isLoggedIn() {
        return loggedIn;
    }

    /** REIN: the server forgets the login. */
    void loggedOut() {
        loggedIn = false;
    }

    boolean isHoldingReplies() {
        return replies.isHolding();
    }

    /** The client's address (known from the start). */
    InetAddress clientAddress() {
        return Addresses.unmap(clientRemote().getAddress());
    }

    /**
     * Where the client connects from: the PROXY protocol's source when a trusted load balancer
     * sent one ({@link #clientIdentified}), else the control connection's peer.
     */
    InetSocketAddress clientRemote() {
        return proxiedClient != null ? proxiedClient : (InetSocketAddress) client.remoteAddress();
    }

    /**
     * How this session's passive data connections arrive through the balancer (from the address
     * its control connection came from; its listener has {@code proxy-protocol.data-connections}),
     * or null when they come straight from the client.
     */
    DataListener.ProxiedPeers proxiedDataPeers() {
        Settings.ProxyProtocol p = listenerSettings == null ? null : listenerSettings.proxyProtocol();
        if (p == null || !p.enabled() || !p.dataConnections()) {
            return null;
        }
        InetAddress balancer = Addresses.unmap(((InetSocketAddress) client.remoteAddress()).getAddress());
        return new DataListener.ProxiedPeers(balancer, p::trusts, p.headerTimeout());
    }

    /** The gateway address the client reached (transparent: the server's). */
    InetSocketAddress clientReached() {
        return (InetSocketAddress) client.localAddress();
    }

    /** The PROXY header this session sends its server (its listener's setting when it started). */
    io.ftpgate.config.UpstreamProxyProtocol upstreamProxyProtocol() {
        return listenerSettings == null ? io.ftpgate.config.UpstreamProxyProtocol.OFF : listenerSettings.upstreamProxyProtocol();
    }

    /**
     * The address a 227 announces: the listener's advertised-address of the family of the address
     * the client reached, else data.advertised-address, else the address the data listener uses.
     */
    InetAddress advertisedAddress() {
        InetAddress local = legs.clientLegLocal();
        java.util.Optional<InetAddress> own = listenerSettings == null ? java.util.Optional.empty()
                : listenerSettings.advertisedAddresses().forFamilyOf(Addresses.unmap(local));
        return own.or(() -> settings().data().advertisedAddress()).map(Addresses::unmap).orElse(local);
    }

    /** The PROXY protocol named the client; called before {@link #start()}. */
    void clientIdentified(InetSocketAddress source) {
        proxiedClient = source;
    }

    /** The addresses of both legs; null until the server's control connection is up. */
    LegAddresses legs() {
        return legs;
    }
}
