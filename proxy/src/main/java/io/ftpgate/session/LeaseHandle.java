package io.ftpgate.session;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.GatewayMetrics.FirewallOp;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One firewall lease as the session sees it, on the session's event loop. A revoke asked for
 * while the apply is still running happens as soon as the apply ends, so no rule outlives its
 * reason however the two race.
 */
final class LeaseHandle {
    private static final Logger log = LoggerFactory.getLogger(LeaseHandle.class);

    private enum State { APPLYING, ACTIVE, REVOKED }

    private final DataLease lease;
    private final LeaseExecutor executor;
    private final GatewayMetrics metrics;
    private final EventLoop loop;
    private State state = State.APPLYING;
    private boolean revokeWanted;

    private LeaseHandle(DataLease lease, LeaseExecutor executor, GatewayMetrics metrics, EventLoop loop) {
        this.lease = lease;
        this.executor = executor;
        this.metrics = metrics;
        this.loop = loop;
    }

    /**
     * Applies {@code lease}; {@code done} runs on {@code loop} with null on success or the failure.
     * If {@link #revoke} was called meanwhile, {@code done} is not called.
     */
    static LeaseHandle apply(DataLease lease, LeaseExecutor executor, GatewayMetrics metrics, EventLoop loop,
                             Consumer<Throwable> done) {
        LeaseHandle h = new LeaseHandle(lease, executor, metrics, loop);
        long start = System.nanoTime();
        CompletableFuture<Void> f = executor.apply(lease);
        f.whenComplete((ok, err) -> {
            metrics.firewallOperation(FirewallOp.APPLY, System.nanoTime() - start, err == null);
            loop.execute(() -> h.applied(err, done));
        });
        return h;
    }

    private void applied(Throwable err, Consumer<Throwable> done) {
        if (err != null) {
            log.warn("session {}: firewall could not open {}: {}", lease.sessionId(), lease, rootMessage(err));
            state = State.REVOKED;
        } else {
            state = State.ACTIVE;
        }
        if (revokeWanted) {
            revoke();
            return;
        }
        done.accept(err);
    }

    /** Removes the lease (now, or as soon as it is applied). Idempotent. */
    void revoke() {
        revokeWanted = true;
        if (state != State.ACTIVE) {
            return;
        }
        state = State.REVOKED;
        long start = System.nanoTime();
        executor.revoke(lease).whenComplete((ok, err) -> {
            metrics.firewallOperation(FirewallOp.REVOKE, System.nanoTime() - start, err == null);
            if (err != null) {
                log.error("session {}: firewall could not remove {}: {}", lease.sessionId(), lease, rootMessage(err));
            }
        });
    }

    DataLease lease() {
        return lease;
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
