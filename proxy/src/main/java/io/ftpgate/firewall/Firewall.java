package io.ftpgate.firewall;

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

    /** Removes every object of this backend (leases, chains, jumps, interception). Idempotent. */
    void stop() throws FirewallException;

    /**
     * Installs, idempotently, the static pieces of transparent interception (see {@link Interception}).
     * Removed by {@link #stop()}.
     */
    default void intercept(Interception spec) throws FirewallException {
        throw new FirewallException("the " + name() + " firewall backend cannot intercept connections");
    }

    /** The exact commands {@link #intercept} runs, one per line, for admins who manage rules themselves. */
    default java.util.List<String> describeIntercept(Interception spec) {
        return java.util.List.of("# the " + name() + " backend installs nothing");
    }
}
