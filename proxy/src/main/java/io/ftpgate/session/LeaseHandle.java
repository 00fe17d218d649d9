package io.ftpgate.session;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.GatewayMetrics.FirewallOp;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
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

    private final long sessionId;
    /** What the lease allows, for log lines. */
    private final String what;
    private final Supplier<CompletableFuture<Void>> revoker;
    private final GatewayMetrics metrics;
    private State state = State.APPLYING;
    private boolean revokeWanted;

    private LeaseHandle(long sessionId, String what, Supplier<CompletableFuture<Void>> revoker, GatewayMetrics metrics) {
        this.sessionId = sessionId;
        this.what = what;
        this.revoker = revoker;
        this.metrics = metrics;
    }

    /**
     * Applies {@code lease}; {@code done} runs on {@code loop} with null on success or the failure,
     * always, also when {@link #revoke} was called meanwhile (the lease is then already being
     * removed): the callback decides whether it still wants the result, so that the work waiting
     * for it (a client's PASV) always ends.
     */
    static LeaseHandle apply(DataLease lease, LeaseExecutor executor, GatewayMetrics metrics, EventLoop loop,
                             Consumer<Throwable> done) {
        LeaseHandle h = new LeaseHandle(lease.sessionId(), lease.toString(), () -> executor.revoke(lease), metrics);
        h.start(executor.apply(lease), loop, done);
        return h;
    }

    /** Like {@link #apply}, for a connection the kernel forwards (the kernel path). */
    static LeaseHandle applyForward(ForwardLease lease, LeaseExecutor executor, GatewayMetrics metrics, EventLoop loop,
                                    Consumer<Throwable> done) {
        LeaseHandle h = new LeaseHandle(lease.sessionId(), lease.toString(), () -> executor.revokeForward(lease), metrics);
        h.start(executor.applyForward(lease), loop, done);
        return h;
    }

    private void start(CompletableFuture<Void> f, EventLoop loop, Consumer<Throwable> done) {
        LeaseHandle h = this;
        long start = System.nanoTime();
        f.whenComplete((ok, err) -> {
            long took = System.nanoTime() - start;
            // Posted before the metric is recorded: the session's reply waits for this, not for that.
            loop.execute(() -> h.applied(err, done));
            metrics.firewallOperation(FirewallOp.APPLY, took, err == null);
        });
    }

    private void applied(Throwable err, Consumer<Throwable> done) {
        if (err != null) {
            log.warn("session {}: firewall could not open {}: {}", sessionId, what, rootMessage(err));
            state = State.REVOKED;
        } else {
            state = State.ACTIVE;
        }
        if (revokeWanted) {
            revoke();
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
        revoker.get().whenComplete((ok, err) -> {
            metrics.firewallOperation(FirewallOp.REVOKE, System.nanoTime() - start, err == null);
            if (err != null) {
                log.error("session {}: firewall could not remove {}: {}", sessionId, what, rootMessage(err));
            }
        });
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
