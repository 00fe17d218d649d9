package io.ftpgate.session;

import io.ftpgate.data.DataListener;
import io.ftpgate.config.Settings;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.policy.Addresses;
import io.ftpgate.policy.DataPolicy;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.ExtendedAddress;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpParseException;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.HostPort;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the gateway does with each client command: most are forwarded as they are; the
 * data-connection commands are rewritten so that both data legs end at the gateway.
 *
 * <ul>
 *   <li>PASV/EPSV: the gateway asks the server for a passive port (EPSV, or PASV where the server
 *       has no EPSV), listens on a port of its own for the client, opens the firewall for exactly
 *       the client's address, and only then answers in the client's dialect.</li>
 *   <li>PORT/EPRT: checked (RFC 2577 bounce and privileged-port rules); by default turned into
 *       passive mode towards the server (the gateway connects to both), or kept active.</li>
 *   <li>EPSV ALL (RFC 2428 §4) is answered by the gateway; LPRT/LPSV and AUTH are refused.</li>
 * </ul>
 */
final class DataNegotiation {
    private static final Logger log = LoggerFactory.getLogger(DataNegotiation.class);
    private final ControlSession s;
    private boolean epsvAll;
    /** Whether the server understood EPSV; null until tried. */
    private Boolean serverHasEpsv;

    DataNegotiation(ControlSession session) {
        this.s = session;
    }

    void handle(FtpCommand c) {
        switch (c.verb()) {
            case "PASV" -> passive(c, DataMode.PASV);
            case "EPSV" -> epsv(c);
            case "PORT" -> active(c, DataMode.PORT);
            case "EPRT" -> active(c, DataMode.EPRT);
            case "LPRT", "LPSV" -> s.refuse(Reason.LONG_ADDRESS);
            case "AUTH" -> s.refuse(Reason.TLS_UNSUPPORTED);
            case "ABOR" -> abort(c);
            case "REIN" -> {
                epsvAll = false;
                s.transfer(null);
                s.forward(c, new Passthrough(s));
            }
            case "FEAT" -> s.forward(c, new FeatFilter(s));
            case "USER", "PASS" -> s.forward(c, new Passthrough(s, true));
            default -> {
                if (ControlSession.isTransfer(c)) {
                    transferCommand(c);
                } else {
                    s.forward(c, new Passthrough(s));
                }
            }
        }
    }

    /** ABOR while something is outstanding: sent at once; an unused negotiation is dropped. */
    void abort(FtpCommand c) {
        DataTransfer t = s.transfer();
        if (t != null && !t.isSpent()) {
            t.cancel("ABOR");
        }
        s.forward(c, new Passthrough(s));
    }

    // ---- passive (client side) --------------------------------------------------------------

    private void epsv(FtpCommand c) {
        String arg = c.argument().trim();
        if (arg.equalsIgnoreCase("ALL")) {
            epsvAll = true;
            s.deliver(FtpReply.of(200, "EPSV ALL command successful"));
            return;
        }
        boolean v4 = Addresses.isIpv4(s.clientLegLocal());
        String own = v4 ? "1" : "2";
        if (!arg.isEmpty() && !arg.equals(own)) {
            if (arg.equals("1") || arg.equals("2")) {
                s.refuse(Reason.FAMILY_MISMATCH, own);
            } else {
                s.deliver(FtpReply.of(501, "Syntax error in EPSV argument"));
            }
            return;
        }
        passive(c, DataMode.EPSV);
    }

    private void passive(FtpCommand c, DataMode mode) {
        if (mode == DataMode.PASV) {
            if (epsvAll) {
                s.refuse(Reason.AFTER_EPSV_ALL);
                return;
            }
            if (!(announcedAddress() instanceof Inet4Address)) {
                s.refuse(Reason.PASV_OVER_IPV6);
                return;
            }
        }
        DataTransfer t = new DataTransfer(s, mode);
        s.transfer(t);
        askServerPassive(t, (target, ex) -> {
            t.serverTarget(target);
            boolean extended = mode == DataMode.EPSV;
            InetAddress local = extended ? s.extendedPassiveLocal() : s.clientLegLocal();
            boolean transparent = extended ? s.extendedPassiveTransparent() : s.clientLegTransparent();
            InetAddress client = s.clientAddress();
            InetSocketAddress kernel = kernelTarget(mode, client, local, target);
            listen(t, local, transparent, client, t.clientListenerEvents(), kernel, port -> {
                int p = port;
                s.deliver(mode == DataMode.PASV
                        ? FtpReply.of(227, new HostPort((Inet4Address) announcedAddress(), p).toPassiveReplyText())
                        : FtpReply.of(229, ExtendedAddress.extendedPassiveReplyText(p)));
            }, ex);
        });
    }

    /**
     * {@code target} (the server's passive address, or the client's active one) if the kernel is to
     * forward the data connection from {@code from} to the gateway's {@code local} address to it
     * ({@code data.path = kernel} and nothing to convert), else null (relayed, with a DEBUG line
     * saying why when the kernel path was asked for).
     */
    private InetSocketAddress kernelTarget(DataMode mode, InetAddress from, InetAddress local, InetSocketAddress target) {
        if (s.settings().data().path() != Settings.DataPath.KERNEL) {
            return null;
        }
        String why = KernelPath.whyRelayed(s, from, local, target);
        if (why != null) {
            log.debug("session {}: {} data connection relayed, not forwarded by the kernel: {}", s.id(), mode, why);
            return null;
        }
        return target;
    }

    private InetAddress announcedAddress() {
        return s.settings().data().advertisedAddress().map(Addresses::unmap).orElse(s.clientLegLocal());
    }

    /**
     * Binds a data listener on {@code local} for {@code peer}, opens the firewall for it, then calls
     * {@code announce} with the port and completes {@code ex}. Any failure answers 425 instead.
     *
     * <p>With a {@code kernel} target the firewall forwards the peer's connection to it instead
     * (the kernel path); the bound listener then only reserves the port, so no relayed data
     * connection can get it meanwhile. If the kernel path's rules cannot be added, the connection
     * is relayed.
     */
    private void listen(DataTransfer t, InetAddress local, boolean transparent, InetAddress peer,
                        DataListener.Events events, InetSocketAddress kernel, Consumer<Integer> announce, Exchange ex) {
        // On the kernel path the listener only reserves the port: the kernel sends the expected
        // connection on before it could get here, so whatever does is refused.
        Predicate<InetAddress> expected = a -> !t.isKernel() && DataPolicy.isExpectedPeer(peer, a);
        DataListener.bind(s.loop(), s.services().transport(), local, transparent, s.services().ports(), expected, events)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        t.fail(Reason.NO_PORT, LeaseHandle.rootMessage(f.cause()));
                        s.refuse(Reason.NO_PORT);
                        ex.complete();
                        return;
                    }
                    DataListener listener = (DataListener) f.getNow();
                    if (t.isEnded()) {
                        listener.close();
                        ex.complete();
                        return;
                    }
                    if (kernel != null) {
                        forward(t, listener, peer, local, kernel, transparent, announce, ex);
                    } else {
                        openRelay(t, listener, peer, local, transparent, announce, ex);
                    }
                });
    }

    /** Opens the firewall for the relayed connection to {@code listener}, then announces its port. */
    private void openRelay(DataTransfer t, DataListener listener, InetAddress peer, InetAddress local, boolean transparent,
                           Consumer<Integer> announce, Exchange ex) {
        DataLease lease = new DataLease(s.id(), DataLease.Direction.INBOUND, peer, local, listener.port(), transparent);
        LeaseHandle[] h = new LeaseHandle[1];
        h[0] = s.applyLease(lease, err -> {
            if (err != null) {
                t.fail(Reason.FIREWALL_FAILED, LeaseHandle.rootMessage(err));
                s.refuse(Reason.FIREWALL_FAILED);
            } else if (t.isEnded()) {
                h[0].revoke();
            } else {
                // The rule is in place: only now may the port be announced.
                announce.accept(listener.port());
                t.startDeadline();
            }
            ex.complete();
        });
        t.listening(listener, h[0]);
    }

    /**
     * The kernel path: the firewall forwards the peer's one connection to the listener's port on to
     * {@code server} (for an active client: the client's address), source-translated to the
     * gateway's address on that leg.
     */
    private void forward(DataTransfer t, DataListener listener, InetAddress peer, InetAddress local,
                         InetSocketAddress server, boolean transparent, Consumer<Integer> announce, Exchange ex) {
        // The source towards the target is the gateway's own address on the target's leg.
        boolean towardsServer = t.clientTarget() == null;
        ForwardLease lease = new ForwardLease(s.id(), peer, local, listener.port(),
                Addresses.unmap(server.getAddress()), server.getPort(),
                towardsServer ? s.serverLocalAddress() : s.clientLegLocal());
        LeaseHandle[] h = new LeaseHandle[1];
        h[0] = s.applyForwardLease(lease, err -> {
            if (err != null) {
                log.warn("session {}: kernel path unavailable, relaying: {}", s.id(), LeaseHandle.rootMessage(err));
                openRelay(t, listener, peer, local, transparent, announce, ex);
                return;
            }
            if (t.isEnded()) {
                h[0].revoke();
            } else {
                // The rules are in place: only now may the port be announced.
                t.kernel(lease);
                log.debug("session {}: {}", s.id(), lease);
                announce.accept(listener.port());
                t.startDeadline();
            }
            ex.complete();
        });
        t.listening(listener, h[0]);
    }

    /** Continues once the server's passive address is known; must complete the exchange. */
    private interface PassiveTarget {
        void accept(InetSocketAddress target, Exchange ex);
    }

    /**
     * Asks the server for a passive port: EPSV (RFC 2428) first, PASV if the server does not know
     * EPSV (and its control connection is IPv4). A refusal (e.g. 530 not logged in) goes to the
     * client as the server said it.
     */
    private void askServerPassive(DataTransfer t, PassiveTarget then) {
        boolean v4 = Addresses.isIpv4(s.serverAddress());
        boolean useEpsv = !v4 || !Boolean.FALSE.equals(serverHasEpsv);
        s.forward(FtpCommand.of(useEpsv ? "EPSV" : "PASV", ""), new Exchange() {
            boolean triedEpsv = useEpsv;

            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                if (t.isEnded()) {
                    complete();
                    return;
                }
                if (triedEpsv && v4 && isUnknownCommand(r)) {
                    serverHasEpsv = false;
                    triedEpsv = false;
                    resend(FtpCommand.of("PASV", ""));
                    return;
                }
                if (r.code() != 227 && r.code() != 229) {
                    t.cancel("server refused passive mode: " + r.code());
                    s.deliver(r);
                    complete();
                    return;
                }
                InetSocketAddress target;
                try {
                    if (r.code() == 229) {
                        serverHasEpsv = true;
                        target = new InetSocketAddress(s.serverAddress(), ExtendedAddress.parseExtendedPassiveReply(r.text()));
                    } else {
                        HostPort hp = HostPort.parsePassiveReply(r.text());
                        target = s.services().policy().passiveTarget(s.serverAddress(), hp.address(), hp.port());
                    }
                } catch (FtpParseException e) {
                    t.fail(Reason.BAD_PASSIVE_REPLY, r.lines().get(0));
                    s.refuse(Reason.BAD_PASSIVE_REPLY);
                    complete();
                    return;
                }
                then.accept(target, this);
            }
        });
    }

    private static boolean isUnknownCommand(FtpReply r) {
        return r.code() == 500 || r.code() == 501 || r.code() == 502 || r.code() == 504;
    }

    // ---- active (client side) ---------------------------------------------------------------

    private void active(FtpCommand c, DataMode mode) {
        if (epsvAll) {
            s.refuse(Reason.AFTER_EPSV_ALL);
            return;
        }
        InetSocketAddress target;
        try {
            if (mode == DataMode.PORT) {
                HostPort hp = HostPort.parsePortArgument(c.argument());
                target = new InetSocketAddress(hp.address(), hp.port());
            } else {
                ExtendedAddress ea = ExtendedAddress.parseEprtArgument(c.argument());
                target = new InetSocketAddress(ea.address(), ea.port());
            }
        } catch (FtpParseException e) {
            if (e.kind() == FtpParseException.Kind.UNSUPPORTED_PROTOCOL) {
                s.refuse(Reason.FAMILY_MISMATCH, Addresses.isIpv4(s.clientAddress()) ? "1" : "2");
            } else {
                s.deliver(FtpReply.of(501, "Syntax error in " + mode.name() + " argument: " + e.getMessage()));
            }
            return;
        }
        Optional<Reason> refusal = s.services().policy().checkActiveTarget(s.clientAddress(), target);
        if (refusal.isPresent()) {
            Reason r = refusal.get();
            s.refuse(r, r == Reason.FAMILY_MISMATCH ? (Addresses.isIpv4(s.clientAddress()) ? "1" : "2")
                    : s.clientAddress().getHostAddress());
            return;
        }
        DataTransfer t = new DataTransfer(s, mode);
        t.clientTarget(target);
        s.transfer(t);
        FtpReply ok = FtpReply.of(200, mode.name() + " command successful");
        if (s.settings().data().activeToPassive()) {
            askServerPassive(t, (serverTarget, ex) -> {
                t.serverTarget(serverTarget);
                s.deliver(ok);
                ex.complete();
            });
        } else {
            activeServerLeg(t, ok);
        }
    }

    /** Keeps the server leg active: the gateway listens and sends PORT/EPRT of its own. */
    private void activeServerLeg(DataTransfer t, FtpReply ok) {
        InetAddress local = s.serverLegLocal();
        InetAddress server = s.serverAddress();
        Exchange ex = new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                if (r.isPositiveCompletion()) {
                    s.deliver(ok);
                } else {
                    t.cancel("server refused " + r.code());
                    s.deliver(r);
                }
                complete();
            }
        };
        // Registered first so that no server reply can overtake the local work below.
        Exchange setup = new Exchange() {
            @Override
            void onReply(FtpReply r) {
                // never receives replies: nothing is sent for it
            }
        };
        s.forwardLocal(setup);
        InetSocketAddress kernel = kernelTarget(t.mode, server, local, t.clientTarget());
        listen(t, local, s.serverLegTransparent(), server, t.serverListenerEvents(), kernel, port -> {
            FtpCommand cmd = local instanceof Inet4Address
                    ? FtpCommand.of("PORT", new HostPort((Inet4Address) local, port).toPortArgument())
                    : FtpCommand.of("EPRT", new ExtendedAddress(local, port).toEprtArgument());
            s.forward(cmd, ex);
        }, setup);
    }

    // ---- transfer commands ------------------------------------------------------------------

    private void transferCommand(FtpCommand c) {
        DataTransfer t = s.transfer();
        if (t == null || t.isSpent()) {
            DataTransfer failed = s.failedTransfer();
            if (failed != null && failed.failure().replyCode() != 0) {
                // The client did negotiate; "use PASV first" would mislead. The reason without its
                // detail: that names the server's internal address. (Counted when it failed.)
                s.deliver(FtpReply.of(failed.failure().replyCode(), failed.failure().text()));
            } else {
                s.refuse(Reason.NO_DATA_CONNECTION);
            }
            return;
        }
        s.forward(c, new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    s.deliver(r);
                    if (r.isPreliminary()) {
                        t.transferStarting();
                    }
                    return;
                }
                s.transferReply(t, r);
                complete();
            }
        });
        t.commandSent(c);
    }
}
