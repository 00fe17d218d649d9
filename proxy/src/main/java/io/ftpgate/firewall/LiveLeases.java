package io.ftpgate.firewall;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LeaseExecutor}'s record of the leases of one kind that may be in the firewall: active ones
 * (applied, not yet revoked) and doubtful ones (their apply failed and may have left something in
 * force, {@link FirewallException.Residue#POSSIBLE}); and how the backend adds and removes one.
 * Changed only on the firewall thread.
 */
final class LiveLeases<L> {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseExecutor.class);

    // Written only on the firewall thread, read from any thread (activeLeases()).
    final Set<L> active = ConcurrentHashMap.newKeySet();
    /** Leases whose apply failed and may have left something in force (Residue.POSSIBLE). */
    final Set<L> doubtful = ConcurrentHashMap.newKeySet();
    private final LeaseCall<L> add;
    private final LeaseCall<L> remove;
    private final ToLongFunction<L> sessionOf;
    private final LeaseFault.Counter faults;

    LiveLeases(LeaseCall<L> add, LeaseCall<L> remove, ToLongFunction<L> sessionOf, LeaseFault.Counter faults) {
        this.add = add;
        this.remove = remove;
        this.sessionOf = sessionOf;
        this.faults = faults;
    }

    int size() {
        return active.size() + doubtful.size();
    }

    /** On the firewall thread. */
    void applyNow(L lease) throws FirewallException {
        if (active.contains(lease)) {
            return;
        }
        if (doubtful.contains(lease)) {
            // Its failed apply may have left it in: remove that first, so it is never in twice.
            remove.run(lease);
            doubtful.remove(lease);
        }
        try {
            add.run(lease);
        } catch (FirewallException e) {
            failedApply(lease, e.residue(), e.timedOut(), e);
            throw e;
        } catch (RuntimeException e) {
            // A backend bug: where it stopped is unknown, so the lease may be in force.
            failedApply(lease, FirewallException.Residue.POSSIBLE, false, e);
            throw e;
        }
        active.add(lease);
    }

    /** On the firewall thread. */
    void revokeNow(L lease) throws FirewallException {
        remove.run(lease);
        revoked(lease);
    }

    /** Whether the lease is active or doubtful: an apply of it must not go into a batch. */
    boolean isKnown(L lease) {
        return active.contains(lease) || doubtful.contains(lease);
    }

    /** The backend applied it (in a batch). */
    void applied(L lease) {
        active.add(lease);
    }

    /** The backend revoked it (in a batch). */
    void revoked(L lease) {
        active.remove(lease);
        doubtful.remove(lease);
    }

    /** Logs and counts an apply that failed after it may have changed something; keeps it if it may be in force. */
    void failedApply(L lease, FirewallException.Residue residue, boolean timedOut, Exception e) {
        LeaseFault.Cause cause = timedOut ? LeaseFault.Cause.TIMEOUT : LeaseFault.Cause.ERROR;
        String how = timedOut ? "timed out" : "failed";
        switch (residue) {
            case NONE -> { }
            case UNDONE -> {
                LOG.warn("{}: apply {}; what it may have added was removed again: {}", lease, how, e.getMessage());
                faults.count(LeaseFault.COMPENSATED, cause, 1);
            }
            case POSSIBLE -> {
                doubtful.add(lease);
                LOG.error("{}: apply {} and what it may have added could not be removed; kept as doubtful,"
                        + " removed at the session's end or at stop: {}", lease, how, describe(e));
                faults.count(LeaseFault.UNCOMPENSATED, cause, 1);
            }
        }
    }

    /** On the firewall thread: revokes the session's active and doubtful leases into {@code sweep}. */
    void revokeSession(long sessionId, Sweep sweep) {
        for (Set<L> set : List.of(active, doubtful)) {
            for (L lease : List.copyOf(set)) {
                if (sessionOf.applyAsLong(lease) != sessionId) {
                    continue;
                }
                try {
                    remove.run(lease);
                    set.remove(lease);
                    if (set == active) {
                        sweep.leaked++;
                    } else {
                        sweep.doubtful++;
                    }
                } catch (FirewallException | RuntimeException e) {
                    sweep.failures.add(sweep.failures.isEmpty()
                            ? new FirewallException(lease + ": revoke failed: " + e.getMessage(), e) : e);
                }
            }
        }
    }

    /**
     * On the firewall thread: revokes every lease; a failure is logged (the backend's stop
     * removes it); returns how many doubtful leases it removed.
     */
    int revokeAllAtStop() {
        int doubtfulRemoved = 0;
        for (Set<L> set : List.of(active, doubtful)) {
            for (L lease : List.copyOf(set)) {
                try {
                    remove.run(lease);
                    if (set == doubtful) {
                        doubtfulRemoved++;
                    }
                } catch (FirewallException | RuntimeException e) {
                    LOG.warn("{}: revoke at stop failed: {}", lease, e.getMessage());
                }
                set.remove(lease);
            }
        }
        return doubtfulRemoved;
    }

    /** What a sweep of one session found: leaked (active) and doubtful leases revoked, and failures. */
    static final class Sweep {
        int leaked;
        int doubtful;
        final List<Throwable> failures = new ArrayList<>();

        FirewallException failure() {
            FirewallException first = failures.get(0) instanceof FirewallException fe ? fe
                    : new FirewallException(String.valueOf(failures.get(0)), failures.get(0));
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            return first;
        }
    }

    @FunctionalInterface
    interface LeaseCall<L> {
        void run(L lease) throws FirewallException;
    }

    /** The message, and those of suppressed exceptions (a failed undo), for a log line. */
    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable s : e.getSuppressed()) {
            text.append("; then: ").append(s.getMessage());
        }
        return text.toString();
    }
}
