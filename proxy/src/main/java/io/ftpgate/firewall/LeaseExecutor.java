package io.ftpgate.firewall;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every call to one {@link Firewall} in submission order on one daemon thread named
 * {@code ftpgate-firewall}, so a blocking backend never stalls an event loop, and remembers which
 * leases are active (applied and not yet revoked).
 *
 * <p>Futures complete on the firewall thread; an event loop that needs the result posts it back to
 * itself. A failed call completes its future exceptionally with the {@link FirewallException}; the
 * caller logs and counts it.
 *
 * <p>A lease whose revoke failed stays active: it may still be in the firewall, and {@link #stop()}
 * (or a later {@link #revokeSession}) tries again.
 */
public final class LeaseExecutor implements AutoCloseable {

    static final String THREAD_NAME = "ftpgate-firewall";

    private static final Logger LOG = LoggerFactory.getLogger(LeaseExecutor.class);

    private final Firewall firewall;
    private final ExecutorService thread;
    // Written only on the firewall thread, read from any thread (activeLeases()).
    private final Set<DataLease> active = ConcurrentHashMap.newKeySet();
    private final Set<ForwardLease> activeForward = ConcurrentHashMap.newKeySet();

    public LeaseExecutor(Firewall firewall) {
        this.firewall = Objects.requireNonNull(firewall, "firewall");
        this.thread = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, THREAD_NAME);
            t.setDaemon(true);
            return t;
        });
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
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            if (active.contains(lease)) {
                return null;
            }
            firewall.apply(lease);
            active.add(lease);
            return null;
        });
    }

    /** Removes the lease; the backend is asked even if the lease is not known to be active. */
    public CompletableFuture<Void> revoke(DataLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            firewall.revoke(lease);
            active.remove(lease);
            return null;
        });
    }

    /** Prepares the backend's kernel path ({@link Firewall#prepareForwarding}) and waits for it. */
    public void prepareForwarding(int firstPort, int lastPort) throws FirewallException {
        await(submit(() -> {
            firewall.prepareForwarding(firstPort, lastPort);
            return null;
        }));
    }

    /** Lets the kernel forward the lease's one connection; applying an active lease again does nothing. */
    public CompletableFuture<Void> applyForward(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            if (activeForward.contains(lease)) {
                return null;
            }
            firewall.applyForward(lease);
            activeForward.add(lease);
            return null;
        });
    }

    /** Removes the forwarded lease's rules; the backend is asked even if the lease is not known. */
    public CompletableFuture<Void> revokeForward(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> {
            firewall.revokeForward(lease);
            activeForward.remove(lease);
            return null;
        });
    }

    /** Whether the forwarded lease's connection has been made. */
    public CompletableFuture<Boolean> forwardConnected(ForwardLease lease) {
        Objects.requireNonNull(lease, "lease");
        return submit(() -> firewall.forwardConnected(lease));
    }

    /**
     * Revokes every active lease of the session, all of them even if one fails.
     *
     * @return how many were revoked; completes exceptionally if any revoke failed (the others are
     *     attached as suppressed exceptions)
     */
    public CompletableFuture<Integer> revokeSession(long sessionId) {
        return submit(() -> {
            int revoked = 0;
            FirewallException failure = null;
            for (DataLease lease : leasesOf(sessionId)) {
                try {
                    firewall.revoke(lease);
                    active.remove(lease);
                    revoked++;
                } catch (FirewallException | RuntimeException e) {
                    if (failure == null) {
                        failure = new FirewallException(lease + ": revoke failed: " + e.getMessage(), e);
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            for (ForwardLease lease : List.copyOf(activeForward)) {
                if (lease.sessionId() != sessionId) {
                    continue;
                }
                try {
                    firewall.revokeForward(lease);
                    activeForward.remove(lease);
                    revoked++;
                } catch (FirewallException | RuntimeException e) {
                    if (failure == null) {
                        failure = new FirewallException(lease + ": revoke failed: " + e.getMessage(), e);
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            return revoked;
        });
    }

    /** How many leases are applied and not yet revoked. */
    public int activeLeases() {
        return active.size() + activeForward.size();
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
     * Revokes every active lease (a failure is logged, the backend's stop removes it anyway), then
     * stops the backend, and waits for it.
     */
    public void stop() throws FirewallException {
        await(submit(() -> {
            for (DataLease lease : List.copyOf(active)) {
                try {
                    firewall.revoke(lease);
                } catch (FirewallException | RuntimeException e) {
                    LOG.warn("{}: revoke at stop failed: {}", lease, e.getMessage());
                }
                active.remove(lease);
            }
            for (ForwardLease lease : List.copyOf(activeForward)) {
                try {
                    firewall.revokeForward(lease);
                } catch (FirewallException | RuntimeException e) {
                    LOG.warn("{}: revoke at stop failed: {}", lease, e.getMessage());
                }
                activeForward.remove(lease);
            }
            firewall.stop();
            return null;
        }));
    }

    /** Lets queued calls finish, then ends the thread; later calls fail. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("firewall thread still busy after 30 s; interrupting it");
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private List<DataLease> leasesOf(long sessionId) {
        List<DataLease> leases = new ArrayList<>();
        for (DataLease lease : active) {
            if (lease.sessionId() == sessionId) {
                leases.add(lease);
            }
        }
        return leases;
    }

    private <T> CompletableFuture<T> submit(FirewallCall<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    result.complete(call.run());
                } catch (FirewallException | RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new FirewallException("firewall executor is closed", e));
        }
        return result;
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

    @FunctionalInterface
    private interface FirewallCall<T> {
        T run() throws FirewallException;
    }
}
