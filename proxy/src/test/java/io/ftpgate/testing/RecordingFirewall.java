package io.ftpgate.testing;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A firewall that records what it is asked to do, and can be told to fail. Thread-safe. */
public final class RecordingFirewall implements Firewall {
    private final List<DataLease> applied = new ArrayList<>();
    private final List<DataLease> revoked = new ArrayList<>();
    private final Set<DataLease> active = new HashSet<>();
    private boolean failApply;
    private boolean stopped;

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public int start() {
        return 0;
    }

    /** While set, apply waits (outside the lock) until {@link #releaseApplies}: a slow firewall. */
    private volatile java.util.concurrent.CountDownLatch applyGate;
    private final java.util.concurrent.Semaphore appliesWaiting = new java.util.concurrent.Semaphore(0);
    private volatile RuntimeException applyThrows;

    /** From now on each apply waits until {@link #releaseApplies()}. */
    public void holdApplies() {
        applyGate = new java.util.concurrent.CountDownLatch(1);
    }

    /** Lets waiting and later applies go on. */
    public void releaseApplies() {
        var gate = applyGate;
        applyGate = null;
        if (gate != null) {
            gate.countDown();
        }
    }

    /** Waits (5 s at most) until an apply is held by {@link #holdApplies()}. */
    public boolean awaitHeldApply() throws InterruptedException {
        return appliesWaiting.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** From now on apply throws {@code e} (not a FirewallException: a fault, not a refusal); null stops it. */
    public void throwOnApply(RuntimeException e) {
        applyThrows = e;
    }

    @Override
    public void apply(DataLease lease) throws FirewallException {
        var gate = applyGate;
        if (gate != null) {
            appliesWaiting.release();
            try {
                gate.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        RuntimeException fault = applyThrows;
        if (fault != null) {
            throw fault;
        }
        record(lease);
    }

    private synchronized void record(DataLease lease) throws FirewallException {
        if (failApply) {
            throw new FirewallException("iptables: simulated failure");
        }
        applied.add(lease);
        active.add(lease);
    }

    @Override
    public synchronized void revoke(DataLease lease) {
        revoked.add(lease);
        active.remove(lease);
    }

    @Override
    public synchronized void stop() {
        stopped = true;
        active.clear();
    }

    public synchronized void failApply(boolean fail) {
        this.failApply = fail;
    }

    public synchronized List<DataLease> applied() {
        return List.copyOf(applied);
    }

    public synchronized List<DataLease> revoked() {
        return List.copyOf(revoked);
    }

    /** Leases applied and not yet revoked. */
    public synchronized Set<DataLease> active() {
        return Set.copyOf(active);
    }

    public synchronized boolean stopped() {
        return stopped;
    }
}
