package io.ftpgate.firewall;

import java.util.ArrayList;
import java.util.List;

/**
 * The only way ftpgate changes a firewall. Implementations are blocking and are called from one
 * thread at a time ({@link LeaseExecutor}); they never touch objects that are not their own.
 */
public interface Firewall {

    /** Short name for logs and metrics, e.g. {@code iptables}. */
    String name();

    /**
     * Creates the backend's own objects (chains, jumps) if missing and removes every lease an
     * earlier run left behind (after a crash).
     *
     * @return how many orphaned leases were removed
     */
    int start() throws FirewallException;

    /** Allows exactly the connection the lease describes; in effect when this returns. */
    void apply(DataLease lease) throws FirewallException;

    /** Removes what {@link #apply} added for this lease; removing a missing lease is not an error. */
    void revoke(DataLease lease) throws FirewallException;

    /**
     * Makes the changes, each as {@link #apply} or {@link #revoke} would, but possibly with fewer
     * commands (the iptables backend: one {@code iptables-restore} per address family). Each change
     * succeeds or fails on its own, with the exception {@code apply} or {@code revoke} would have
     * thrown; no lease appears twice. This default makes them one by one, in order.
     *
     * @return per change, in order: null if it succeeded, else its failure
     */
    default List<FirewallException> change(List<LeaseChange> changes) {
        List<FirewallException> results = new ArrayList<>(changes.size());
        for (LeaseChange change : changes) {
            try {
                if (change.kind() == LeaseChange.Kind.APPLY) {
                    apply(change.lease());
                } else {
                    revoke(change.lease());
                }
                results.add(null);
            } catch (FirewallException e) {
                results.add(e);
            }
        }
        return results;
    }

    /** Removes every object of this backend (leases, chains, jumps, interception). Idempotent. */
    void stop() throws FirewallException;

    /**
     * Puts back what {@link #start()} installed and someone else removed since (a reload of the
     * admin's ruleset), keeping the live leases where their objects are still there.
     *
     * @return what it put back, one short description each; empty when everything was in place
     * @throws FirewallException when it cannot tell or cannot put something back
     */
    default java.util.List<String> restoreMissing() throws FirewallException {
        return java.util.List.of();
    }

    /**
     * Installs, idempotently, the static pieces of transparent interception (see {@link Interception}).
     * Removed by {@link #stop()}.
     */
    default void intercept(Interception spec) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend cannot intercept connections");
    }

    /**
     * Prepares the kernel path (see {@link ForwardLease}) for data ports {@code firstPort} to
     * {@code lastPort}: ftpgate's own NAT and forwarding chains, and the one static rule that lets
     * the established flows of forwarded data connections through. Removed by {@link #stop()}.
     */
    default void prepareForwarding(int firstPort, int lastPort) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend has no kernel path");
    }

    /**
     * Lets exactly the lease's one connection be forwarded by the kernel; in effect when this
     * returns. Call {@link #prepareForwarding} first.
     */
    default void applyForward(ForwardLease lease) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend has no kernel path");
    }

    /**
     * Removes what {@link #applyForward} added; a connection already made goes on (its state is
     * the kernel's). Removing a missing lease is not an error.
     */
    default void revokeForward(ForwardLease lease) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend has no kernel path");
    }

    /** Whether the lease's connection has been made (its rules matched a connection). */
    default boolean forwardConnected(ForwardLease lease) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend has no kernel path");
    }

    /**
     * The backend's own lease objects and what the admin's ruleset needs for them, one per line
     * ({@code --print-firewall}); none for backends whose objects need no help from the admin.
     */
    default java.util.List<String> describeLeaseObjects() {
        return java.util.List.of();
    }

    /**
     * Likewise with the kernel path's objects for data ports {@code firstPort..lastPort} as
     * {@link #prepareForwarding} makes them ({@code --print-firewall} with {@code data.path = kernel});
     * by default the same as {@link #describeLeaseObjects()}.
     */
    default java.util.List<String> describeLeaseObjects(int firstPort, int lastPort) {
        return describeLeaseObjects();
    }

    /** The exact commands {@link #intercept} runs, one per line, for admins who manage rules themselves. */
    default java.util.List<String> describeIntercept(Interception spec) {
        return java.util.List.of("# the " + name() + " backend installs nothing");
    }
}
