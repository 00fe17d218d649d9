package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.data.DataListener;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The data-connection commands, rewritten so that both data legs end at the gateway.
 *
 * <ul>
 *   <li>PASV/EPSV: the gateway asks the server for a passive port (EPSV, or PASV where the server
 *       has no EPSV), listens on a port of its own for the client, opens the firewall for exactly
 *       the client's address (on the kernel path: forwards exactly that connection to the server,
 *       see {@link DataPortOpener}), and only then answers in the client's dialect.</li>
 *   <li>PORT/EPRT: checked (RFC 2577 bounce and privileged-port rules); by default turned into
 *       passive mode towards the server (the gateway connects to both), or kept active.</li>
 *   <li>EPSV ALL (RFC 2428 §4) is answered by the gateway.</li>
 * </ul>
 */
final class DataNegotiation {
    private final ControlSession s;
    private final DataPortOpener opener;
    private boolean epsvAll;
    /** Whether the server understood EPSV; null until tried. */
    private Boolean serverHasEpsv;

    DataNegotiation(ControlSession session) {
        this.s = session;
        this.opener = new DataPortOpener(session);
    }

    /** PASV, EPSV, PORT, EPRT or a transfer command; see the class comment. */
    void handle(FtpCommand c) {
        switch (c.verb()) {
            case "PASV" -> passive(c, DataMode.PASV);
            case "EPSV" -> epsv(c);
            case "PORT" -> active(c, DataMode.PORT);
            case "EPRT" -> active(c, DataMode.EPRT);
            default -> transferCommand(c);
        }
    }

    /** REIN: the session starts over, EPSV ALL included. */
    void reset() {
        epsvAll = false;
    }

    // ---- passive (client side) --------------------------------------------------------------

    private void epsv(FtpCommand c) {
        String arg = c.argument().trim();
        if (arg.equalsIgnoreCase("ALL")) {
            epsvAll = true;
            s.deliver(FtpReply.of(200, "EPSV ALL command successful"));
            return;
        }
        boolean v4 = Addresses.isIpv4(s.legs().clientLegLocal());
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
        boolean extended = mode == DataMode.EPSV;
        InetAddress local = extended ? s.legs().extendedPassiveLocal() : s.legs().clientLegLocal();
        boolean transparent = extended ? s.legs().extendedPassiveTransparent() : s.legs().clientLegTransparent();
        InetAddress client = s.clientAddress();
        // Transparent with announce = gateway: a client that ignores the 227 address (curl's
        // default, FileZilla for unroutable ones) connects to the server's address instead.
        InetAddress alsoDiverted = extended ? null : s.legs().clientLegAlsoDiverted();
        // Through the load balancer (proxy-protocol.data-connections) the lease names the balancer.
        DataListener.ProxiedPeers proxied = s.proxiedDataPeers();
        Consumer<Integer> announce = port -> {
            s.deliver(mode == DataMode.PASV
                    ? FtpReply.of(227, new HostPort((Inet4Address) announcedAddress(), port).toPassiveReplyText())
                    : FtpReply.of(229, ExtendedAddress.extendedPassiveReplyText(port)));
            t.passiveAnnounced();
        };
        if (s.settings().data().path() != Settings.DataPath.KERNEL && s.isLoggedIn()) {
            // The gateway's side does not depend on the server's answer (the lease names the
            // client and the gateway's port): open it while the server answers EPSV.
            PassiveJoin join = new PassiveJoin(t, announce);
            askServerPassive(t, join::target);
            Exchange opening = new Exchange() {
                @Override
                void onReply(FtpReply r) {
                    // local work: never receives replies
                }
            };
            s.forwardLocal(opening);
            opener.open(t, local, transparent, alsoDiverted, client, proxied, t.clientListenerEvents(), null, join::port, opening);
            return;
        }
        askServerPassive(t, (target, ex) -> {
            t.serverTarget(target);
            // The kernel path's rules name the server's port, so they wait for its answer; a data
            // connection through the load balancer starts with a PROXY header, which only the relay
            // can take off (the configuration refuses the kernel path with it).
            InetSocketAddress kernel = t.isTls() || proxied != null ? null : opener.kernelTarget(mode, client, local, target);
            opener.open(t, local, transparent, alsoDiverted, client, proxied, t.clientListenerEvents(), kernel, announce, ex);
        });
    }

    /**
     * A passive negotiation whose port is opened (bound, leased) while the server answers EPSV:
     * the client's 227/229 goes out once both are done. The server's exchange completes when its
     * answer is in; the opening holds the command queue until the port is open (or has failed and
     * answered 425, which makes the transfer end, so the server's answer is then dropped).
     */
    private static final class PassiveJoin {
        private final DataTransfer t;
        private final Consumer<Integer> announce;
        private InetSocketAddress target;
        private Integer port;

        PassiveJoin(DataTransfer t, Consumer<Integer> announce) {
            this.t = t;
            this.announce = announce;
        }

        /** The server's passive address is known (and allowed). */
        void target(InetSocketAddress target, Exchange ex) {
            t.serverTarget(target);
            this.target = target;
            announceIfReady();
            ex.complete();
        }

        /** The gateway's port is bound and leased for the client. */
        void port(Integer port) {
            this.port = port;
            announceIfReady();
        }

        private void announceIfReady() {
            if (target != null && port != null && !t.isEnded()) {
                announce.accept(port);
            }
        }
    }

    private InetAddress announcedAddress() {
        return s.advertisedAddress();
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
        boolean v4 = Addresses.isIpv4(s.legs().server());
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
                        target = new InetSocketAddress(s.legs().server(), ExtendedAddress.parseExtendedPassiveReply(r.text()));
                    } else {
                        HostPort hp = HostPort.parsePassiveReply(r.text());
                        target = s.services().policy().passiveTarget(s.legs().server(), hp.address(), hp.port());
                    }
                } catch (FtpParseException e) {
                    t.fail(Reason.BAD_PASSIVE_REPLY, r.lines().get(0) + ": " + e.getMessage()); // logs and counts it
                    s.deliver(FtpReply.of(Reason.BAD_PASSIVE_REPLY.replyCode(), Reason.BAD_PASSIVE_REPLY.text()));
                    complete();
                    return;
                }
                Optional<Reason> refusal = DataPolicy.checkPassiveTarget(target);
                if (refusal.isPresent()) {
                    // No connection, no lease: the client learns why, the log names the port.
                    t.fail(refusal.get(), r.lines().get(0));
                    s.deliver(FtpReply.of(refusal.get().replyCode(), refusal.get().text(target.getPort())));
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
                t.announced();
                s.deliver(ok);
                ex.complete();
            });
        } else {
            activeServerLeg(t, ok);
        }
    }

    /** Keeps the server leg active: the gateway listens and sends PORT/EPRT of its own. */
    private void activeServerLeg(DataTransfer t, FtpReply ok) {
        InetAddress local = s.legs().serverLegLocal();
        InetAddress server = s.legs().server();
        Exchange ex = new Exchange() {
            @Override
            void onReply(FtpReply r) {
                if (!r.isFinal()) {
                    return;
                }
                if (r.isPositiveCompletion()) {
                    t.announced();
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
        InetSocketAddress kernel = t.isTls() ? null : opener.kernelTarget(t.mode, server, local, t.clientTarget());
        opener.open(t, local, s.legs().serverLegTransparent(), null, server, null, t.serverListenerEvents(), kernel, port -> {
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
