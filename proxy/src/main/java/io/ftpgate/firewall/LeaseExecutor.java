package io.ftpgate.firewall;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every call to one {@link Firewall} in submission order on one daemon thread named
 * {@code ftpgate-firewall}, so a blocking backend never stalls an event loop, and remembers which
 * leases are active (applied and not yet revoked).
 *
 * <p>Applies and revokes of {@link DataLease}s that queue up behind a slow command are made
 * together, with one {@link Firewall#change} (for the iptables backend: one {@code iptables-restore}
 * instead of one {@code iptables} process per change), so that under load a revoke waits for at
 * most the batch before it, not for every change queued before it. Each change still succeeds or
 * fails on its own.
 *
 * <p>Futures complete on the firewall thread; an event loop that needs the result posts it back to
 * itself. A failed call completes its future exceptionally with the {@link FirewallException}; the
 * caller logs and counts it.
 *
 * <p>A lease whose revoke failed stays active: it may still be in the firewall, and {@link #stop()}
 * (or a later {@link #revokeSession}) tries again. A lease whose apply failed in a way that may have
 * left part of it in force ({@link FirewallException.Residue#POSSIBLE}: its backend could not undo a
 * command that timed out) is kept as <em>doubtful</em>, so that the session's end
 * ({@link #revokeLeftovers}) and {@link #stop()} remove it too; such an apply is logged at ERROR, and
 * one the backend did undo at WARN, each counted ({@link LeaseFault}).
 */
public final class LeaseExecutor implements AutoCloseable {

    static final String THREAD_NAME = "ftpgate-firewall";

    private static final Logger LOG = LoggerFactory.getLogger(LeaseExecutor.class);

    /** The most lease changes made together. */
    static final int MAX_BATCH = 512;

    private final Firewall firewall;
    private final FirewallThread thread;
    private final LiveLeases<DataLease> leases;
    private final LiveLeases<ForwardLease> forwards;
    private final LeaseFault.Counter faults;
    /** Set by every lease apply's outcome, read by {@link #usable}. */
    private volatile boolean lastApplyFailed;
    private volatile boolean restoreFailed;
    // Only on the firewall thread: after stop, nothing is put back.
    private boolean stopped;

    /** An executor that logs lease faults but counts them nowhere (tools, tests). */
    public LeaseExecutor(Firewall firewall) {
        this(firewall, LeaseFault.Counter.NONE);
    }

    /** @param faults counts each {@link LeaseFault} (in the gateway: {@code GatewayMetrics::firewallLeaseFault}) */
    public LeaseExecutor(Firewall firewall, LeaseFault.Counter faults) {
        this.firewall = Objects.requireNonNull(firewall, "firewall");
        this.faults = Objects.requireNonNull(faults, "faults");
        this.leases = new LiveLeases<>(firewall::apply, firewall::revoke, DataLease::sessionId, faults);
        this.forwards = new LiveLeases<>(firewall::applyForward, firewall::revokeForward, ForwardLease::sessionId, faults);
        this.thread = new FirewallThread(THREAD_NAME, MAX_BATCH, this::change);
    }

    /** The backend's name, for logs and metrics. */
    public String firewallName() {
        return firewall.name();
    }

    /**
     * Allows the lease. Applying a lease that is already active completes at once without calling
     * the backend again, so a rule is never added twice.
     */
    public CompletableFuture<Void> apply(DataLease lease) {
        CompletableFuture<Void> f = thread.submit(LeaseChange.apply(lease));
        f.whenComplete((ok, failure) -> lastApplyFailed = failure != null);
        return f;
    }

    /**
     * Whether the firewall can take leases (for {@code /ready}): its thread runs a call within
     * {@code wait}, and the latest lease apply did not fail. A failed apply makes the gateway
     * unready until the next one succeeds: sessions would get 425 for every transfer meanwhile.
     */
    public boolean usable(java.time.Duration wait) {
        if (lastApplyFailed || restoreFailed) {
            return false;
        }
        try {
            submit(() -> null).get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /**
     * Runs the backend's {@link Firewall#restoreMissing()} on the firewall thread, between lease
     * changes. While it fails, the firewall is not {@link #usable}.
     */
    public CompletableFuture<List<String>> restoreMissing() {
        CompletableFuture<List<String>> f = submit(() -> stopped ? List.of() : firewall.restoreMissing());
        f.whenComplete((restored, failure) -> restoreFailed = failure != null);
        return f;
    }

    /** Removes the lease; the backend is asked even if the lease is not known to be active. */
    public CompletableFuture<Void> revoke(DataLease lease) {
        return thread.submit(LeaseChange.revoke(lease));
    }

    /**
     * On the firewall thread: makes a batch of lease changes (no lease twice) and completes each
     * future. One change alone is an ordinary apply or revoke.
     */
    private void change(List<FirewallThread.Pending> batch) {
        List<FirewallThread.Pending> together = new ArrayList<>(batch.size());
        for (FirewallThread.Pending p : batch) {
            LeaseChange c = p.change();
            boolean alone = batch.size() == 1
                    // Already in: nothing to do. Doubtful: removed first, which a batch does not do.
                    || c.kind() == LeaseChange.Kind.APPLY && leases.isKnown(c.lease());
            if (alone) {
                complete(p, () -> {
                    if (c.kind() == LeaseChange.Kind.APPLY) {
                        leases.applyNow(c.lease());
                    } else {
                        leases.revokeNow(c.lease());
                    }
                    return null;
                });
            } else {
                together.add(p);
            }
        }
        if (together.isEmpty()) {
            return;
        }
        List<FirewallException> results;
        try {
            results = firewall.change(together.stream().map(FirewallThread.Pending::change).toList());
            if (results.size() != together.size()) {
                throw new IllegalStateException(firewall.name() + " answered " + results.size() + " of "
                        + together.size() + " changes");
            }
        } catch (RuntimeException e) {
            // A backend bug: where it stopped is unknown, so every apply may be in force.
            for (FirewallThread.Pending p : together) {
                if (p.change().kind() == LeaseChange.Kind.APPLY) {
                    leases.failedApply(p.change().lease(), FirewallException.Residue.POSSIBLE, false, e);
                }
                p.done().completeExceptionally(e);
            }
            return;
        }
        for (int i = 0; i < together.size(); i++) {
            FirewallThread.Pending p = together.get(i);
            DataLease lease = p.change().lease();
            FirewallException failure = results.get(i);
            boolean apply = p.change().kind() == LeaseChange.Kind.APPLY;
            if (failure != null) {
                if (apply) {
                    leases.failedApply(lease, failure.residue(), failure.timedOut(), failure);
                }
                p.done().completeExceptionally(failure);
            } else {
                if (apply) {
                    leases.applied(lease);
                } else {
                    leases.revoked(lease);
                }
                p.done().complete(null);
            }
        }
    }

    private static void complete(FirewallThread.Pending p, FirewallThread.Call<Void> call) {
        try {
            p.done().complete(call.run());
        } catch (FirewallException | RuntimeException e) {
            p.done().completeExceptionally(e);
        }
    }

    /** Prepares the backend's kernel path ({@link Firewall#prepareForwarding}) and waits for it. */
    public void prepareForwarding(int firstPort, int lastPort) throws FirewallException {
        await(submit(() -> {
            firewall.prepareForwarding(firstPort, lastPort);
            return null;
        }));
    }

    /** Lets the kernel forward the lease's one connection; like {@link #apply(DataLease)}. */
    public CompletableFuture<Void> applyForward(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            forwards.applyNow(lease);
            return null;
        });
    }

    /** Removes the forwarded lease's rules; like {@link #revoke(DataLease)}. */
    public CompletableFuture<Void> revokeForward(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            forwards.revokeNow(lease);
            return null;
        });
    }

    /** Whether the forwarded lease's connection has been made. */
    public CompletableFuture<Boolean> forwardConnected(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> firewall.forwardConnected(lease));
    }

    /**
     * Revokes every active (and doubtful) lease of the session, all of them even if one fails.
     *
     * @return how many were revoked; completes exceptionally if any revoke failed (the others are
     *     attached as suppressed exceptions)
     */
    public CompletableFuture<Integer> revokeSession(long sessionId) {
        return submit(() -> {
            LiveLeases.Sweep sweep = sweep(sessionId);
            if (!sweep.failures.isEmpty()) {
                throw sweep.failure();
            }
            return sweep.leaked + sweep.doubtful;
        });
    }

    /**
     * The safety net at a session's end: revokes whatever of the session is still in the firewall,
     * and logs and counts what it found, itself. By then every lease handle of the session has
     * revoked its lease, so an active lease found here leaked (a bug: WARN,
     * {@link LeaseFault#LEAKED}); a doubtful one is the remains of an apply that failed and could
     * not be undone (INFO, {@link LeaseFault#DOUBTFUL_REMOVED}); a revoke that fails is logged at
     * ERROR and counted ({@link LeaseFault#REVOKE_FAILED}), and {@link #stop()} tries again.
     *
     * @return completes, never exceptionally, with how many leases it found (leaked and doubtful)
     */
    public CompletableFuture<Integer> revokeLeftovers(long sessionId) {
        return submit(() -> {
            LiveLeases.Sweep sweep = sweep(sessionId);
            if (sweep.leaked > 0) {
                LOG.warn("session {}: {} lease(s) still active at the session's end (a lease handle leaked); revoked now",
                        sessionId, sweep.leaked);
                faults.count(LeaseFault.LEAKED, LeaseFault.Cause.SESSION_END, sweep.leaked);
            }
            if (sweep.doubtful > 0) {
                LOG.info("session {}: removed {} lease(s) whose apply had failed and could not be undone",
                        sessionId, sweep.doubtful);
                faults.count(LeaseFault.DOUBTFUL_REMOVED, LeaseFault.Cause.SESSION_END, sweep.doubtful);
            }
            if (!sweep.failures.isEmpty()) {
                LOG.error("session {}: {} lease(s) could not be removed at the session's end (stop() tries again): {}",
                        sessionId, sweep.failures.size(), sweep.failure().getMessage());
                faults.count(LeaseFault.REVOKE_FAILED, LeaseFault.Cause.SESSION_END, sweep.failures.size());
            }
            return sweep.leaked + sweep.doubtful + sweep.failures.size();
        }).exceptionally(closed -> {
            // Only when the executor is closed: stop() has revoked everything already.
            LOG.debug("session {}: no safety-net revoke: {}", sessionId, closed.getMessage());
            return 0;
        });
    }

    /** On the firewall thread: revokes the session's active and doubtful leases, of both kinds. */
    private LiveLeases.Sweep sweep(long sessionId) {
        LiveLeases.Sweep sweep = new LiveLeases.Sweep();
        leases.revokeSession(sessionId, sweep);
        forwards.revokeSession(sessionId, sweep);
        return sweep;
    }


    /** How many leases are applied and not yet revoked, doubtful ones included (they may be in force). */
    public int activeLeases() {
        return leases.size() + forwards.size();
    }

    /**
     * Starts the backend and waits for it.
     *
     * @return how many orphaned leases of an earlier run it removed
     */
    public int start() throws FirewallException {
        return await(submit(firewall::start));
    }

    /**
     * Installs the backend's transparent interception ({@link Firewall#intercept}) on the firewall
     * thread, after the calls queued before it, and waits for it. Call it after {@link #start()}.
     */
    public void intercept(Interception spec) throws FirewallException {
        Objects.requireNonNull(spec, "spec");
        await(submit(() -> {
            firewall.intercept(spec);
            return null;
        }));
    }

    /**
     * Revokes every active and doubtful lease (a failure is logged, the backend's stop removes it anyway), then
     * stops the backend, and waits for it.
     */
    public void stop() throws FirewallException {
        await(submit(() -> {
            stopped = true;
            int doubtful = leases.revokeAllAtStop() + forwards.revokeAllAtStop();
            if (doubtful > 0) {
                LOG.info("removed {} lease(s) at stop whose apply had failed and could not be undone", doubtful);
                faults.count(LeaseFault.DOUBTFUL_REMOVED, LeaseFault.Cause.STOP, doubtful);
            }
            firewall.stop();
            return null;
        }));
    }

    /** How many calls and lease changes wait to run (for tests). */
    int queued() {
        return thread.queued();
    }

    /** Lets queued calls finish, then ends the thread; later calls fail. */
    @Override
    public void close() {
        thread.close();
    }


    private <T> CompletableFuture<T> submit(FirewallThread.Call<T> call) {
        return thread.submit(call);
    }

    private static <T> T await(CompletableFuture<T> future) throws FirewallException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FirewallException("interrupted while waiting for the firewall", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof FirewallException fe) {
                throw fe;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new FirewallException(String.valueOf(cause), cause);
        }
    }

}
