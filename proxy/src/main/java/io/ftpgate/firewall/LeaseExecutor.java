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
import java.util.function.ToLongFunction;
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
    private final Live<DataLease> leases;
    private final Live<ForwardLease> forwards;

    public LeaseExecutor(Firewall firewall) {
        this.firewall = Objects.requireNonNull(firewall, "firewall");
        this.leases = new Live<>(firewall::apply, firewall::revoke, DataLease::sessionId);
        this.forwards = new Live<>(firewall::applyForward, firewall::revokeForward, ForwardLease::sessionId);
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
        return leases.apply(lease);
    }

    /** Removes the lease; the backend is asked even if the lease is not known to be active. */
    public CompletableFuture<Void> revoke(DataLease lease) {
        return leases.revoke(lease);
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
        return forwards.apply(lease);
    }

    /** Removes the forwarded lease's rules; like {@link #revoke(DataLease)}. */
    public CompletableFuture<Void> revokeForward(ForwardLease lease) {
        return forwards.revoke(lease);
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
            List<Throwable> failures = new ArrayList<>();
            int revoked = leases.revokeSession(sessionId, failures) + forwards.revokeSession(sessionId, failures);
            if (!failures.isEmpty()) {
                FirewallException failure = (FirewallException) failures.get(0);
                failures.subList(1, failures.size()).forEach(failure::addSuppressed);
                throw failure;
            }
            return revoked;
        });
    }

    /** How many leases are applied and not yet revoked. */
    public int activeLeases() {
        return leases.active.size() + forwards.active.size();
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
            leases.revokeAllAtStop();
            forwards.revokeAllAtStop();
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

    /** The active leases of one kind, and how the backend adds and removes one. */
    private final class Live<L> {
        // Written only on the firewall thread, read from any thread (activeLeases()).
        final Set<L> active = ConcurrentHashMap.newKeySet();
        private final LeaseCall<L> add;
        private final LeaseCall<L> remove;
        private final ToLongFunction<L> sessionOf;

        Live(LeaseCall<L> add, LeaseCall<L> remove, ToLongFunction<L> sessionOf) {
            this.add = add;
            this.remove = remove;
            this.sessionOf = sessionOf;
        }

        CompletableFuture<Void> apply(L lease) {
            Objects.requireNonNull(lease, "lease");
            return submit(() -> {
                if (!active.contains(lease)) {
                    add.run(lease);
                    active.add(lease);
                }
                return null;
            });
        }

        CompletableFuture<Void> revoke(L lease) {
            Objects.requireNonNull(lease, "lease");
            return submit(() -> {
                remove.run(lease);
                active.remove(lease);
                return null;
            });
        }

        /** On the firewall thread: revokes the session's leases, adding each failure to {@code failures}. */
        int revokeSession(long sessionId, List<Throwable> failures) {
            int revoked = 0;
            for (L lease : List.copyOf(active)) {
                if (sessionOf.applyAsLong(lease) != sessionId) {
                    continue;
                }
                try {
                    remove.run(lease);
                    active.remove(lease);
                    revoked++;
                } catch (FirewallException | RuntimeException e) {
                    failures.add(failures.isEmpty() ? new FirewallException(lease + ": revoke failed: " + e.getMessage(), e) : e);
                }
            }
            return revoked;
        }

        /** On the firewall thread: revokes every lease; a failure is logged (the backend's stop removes it). */
        void revokeAllAtStop() {
            for (L lease : List.copyOf(active)) {
                try {
                    remove.run(lease);
                } catch (FirewallException | RuntimeException e) {
                    LOG.warn("{}: revoke at stop failed: {}", lease, e.getMessage());
                }
                active.remove(lease);
            }
        }
    }

    @FunctionalInterface
    private interface LeaseCall<L> {
        void run(L lease) throws FirewallException;
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
