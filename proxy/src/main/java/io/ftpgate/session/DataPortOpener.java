package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.data.DataListener;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.policy.Addresses;
import io.ftpgate.policy.DataPolicy;
import io.ftpgate.policy.Reason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens one data port of the gateway for a negotiation: binds a listener from the data port range
 * and, before the port is announced, asks the firewall for exactly the expected connection —
 * either a rule that lets it reach the listener (the relay), or, on the kernel path, rules that
 * forward it past the gateway to its target (the listener then only reserves the port).
 */
final class DataPortOpener {
    private static final Logger log = LoggerFactory.getLogger(DataPortOpener.class);

    private final ControlSession s;

    DataPortOpener(ControlSession session) {
        this.s = session;
    }

    /**
     * {@code target} (the server's passive address, or the client's active one) if the kernel is to
     * forward the data connection from {@code from} to the gateway's {@code local} address to it
     * ({@code data.path = kernel} and nothing to convert), else null (relayed, with a DEBUG line
     * saying why when the kernel path was asked for).
     */
    InetSocketAddress kernelTarget(DataMode mode, InetAddress from, InetAddress local, InetSocketAddress target) {
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

    /**
     * Binds a data listener on {@code local} for {@code peer}, opens the firewall for it, then calls
     * {@code announce} with the port and completes {@code ex}. Any failure answers 425 instead.
     *
     * <p>With a {@code kernel} target the firewall forwards the peer's connection to it instead
     * (the kernel path); the bound listener then only reserves the port, so no relayed data
     * connection can get it meanwhile. If the kernel path's rules cannot be added, the connection
     * is relayed.
     *
     * <p>With {@code proxied} the connection comes through a load balancer with a PROXY header:
     * the header must name {@code peer}, and the lease lets in the balancer (the connection's
     * actual source), nobody else.
     */
    void open(DataTransfer t, InetAddress local, boolean transparent, InetAddress alsoDiverted, InetAddress peer,
              DataListener.ProxiedPeers proxied, DataListener.Events events, InetSocketAddress kernel,
              Consumer<Integer> announce, Exchange ex) {
        // On the kernel path the listener only reserves the port: the kernel sends the expected
        // connection on before it could get here, so whatever does is refused.
        Predicate<InetAddress> expected = a -> !t.isKernel() && DataPolicy.isExpectedPeer(peer, a);
        // With alsoDiverted the listener takes the connection on either address, so it binds the
        // wildcard address, transparently.
        InetAddress bindAddress = alsoDiverted == null ? local : Addresses.anyOfFamily(local);
        boolean bindTransparent = transparent || alsoDiverted != null;
        DataListener.bind(s.loop(), s.services().transport(), bindAddress, bindTransparent, s.services().ports(),
                        expected, proxied, events)
                .addListener(f -> s.guard(() -> {
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
                    // Registered once: closed with the transfer, whichever path opens it.
                    t.listening(listener);
                    if (kernel != null) {
                        forward(t, listener, peer, local, kernel, transparent, announce, ex);
                    } else {
                        InetAddress source = proxied != null ? proxied.balancer() : peer;
                        openRelay(t, listener, source, local, transparent, alsoDiverted, announce, ex);
                    }
                }));
    }

    /**
     * Opens the firewall for the relayed connection to {@code listener}, then announces its port.
     * With {@code alsoDiverted} (transparent, announce = gateway), a second lease diverts the
     * connection to the same port at that address (the server's, as the client sees it) as well.
     */
    private void openRelay(DataTransfer t, DataListener listener, InetAddress peer, InetAddress local, boolean transparent,
                           InetAddress alsoDiverted, Consumer<Integer> announce, Exchange ex) {
        List<DataLease> leases = new ArrayList<>();
        leases.add(new DataLease(s.id(), DataLease.Direction.INBOUND, peer, local, listener.port(), transparent));
        if (alsoDiverted != null) {
            leases.add(new DataLease(s.id(), DataLease.Direction.INBOUND, peer, alsoDiverted, listener.port(), true));
        }
        applyLeases(t, leases, 0, () -> {
            // Every rule is in place: only now may the port be announced.
            announce.accept(listener.port());
            t.startDeadline();
        }, ex);
    }

    /** Applies {@code leases} from {@code next} on, one after the other, then runs {@code then}. */
    private void applyLeases(DataTransfer t, List<DataLease> leases, int next, Runnable then, Exchange ex) {
        if (next == leases.size()) {
            then.run();
            ex.complete();
            return;
        }
        LeaseHandle[] h = new LeaseHandle[1];
        h[0] = s.applyLease(leases.get(next), err -> {
            if (t.isEnded()) {
                // Cancelled meanwhile: no rule is wanted; the client's reply comes from the exchange.
                h[0].revoke();
                ex.complete();
            } else if (err != null) {
                t.fail(Reason.FIREWALL_FAILED, LeaseHandle.rootMessage(err));
                s.refuse(Reason.FIREWALL_FAILED);
                ex.complete();
            } else {
                applyLeases(t, leases, next + 1, then, ex);
            }
        });
        t.lease(h[0]);
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
                towardsServer ? s.legs().serverLocal() : s.legs().clientLegLocal());
        LeaseHandle[] h = new LeaseHandle[1];
        h[0] = s.applyForwardLease(lease, err -> {
            if (t.isEnded()) {
                h[0].revoke();
                ex.complete();
                return;
            }
            if (err != null) {
                log.warn("session {}: kernel path unavailable, relaying: {}", s.id(), LeaseHandle.rootMessage(err));
                openRelay(t, listener, peer, local, transparent, null, announce, ex);
                return;
            }
            // The rules are in place: only now may the port be announced.
            t.kernel(lease);
            log.debug("session {}: {}", s.id(), lease);
            announce.accept(listener.port());
            t.startDeadline();
            ex.complete();
        });
        t.lease(h[0]);
    }
}
