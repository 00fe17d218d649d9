package io.ftpgate.firewall;

/**
 * What can happen to a lease outside an ordinary apply or revoke, each a risk that a firewall entry
 * outlives its lease; {@link LeaseExecutor} logs each and counts it ({@link Counter}).
 */
public enum LeaseFault {
    /** An apply failed; what it may have committed was removed again at once (compensated). */
    COMPENSATED,
    /** An apply failed and what it may have committed could not be removed: kept as doubtful. */
    UNCOMPENSATED,
    /** A doubtful lease was removed later: at its session's end, or at stop. */
    DOUBTFUL_REMOVED,
    /** A session's end found leases still active that its lease handles never revoked (a bug). */
    LEAKED,
    /** The revoke at a session's end, or at stop, failed: the entry stays until the backend's stop. */
    REVOKE_FAILED;

    /** Why, or where, it happened. */
    public enum Cause {
        /** A firewall command was killed at its timeout: its effect is unknown. */
        TIMEOUT,
        /** A firewall command failed. */
        ERROR,
        /** The safety-net revoke at a session's end. */
        SESSION_END,
        /** {@link LeaseExecutor#stop()}. */
        STOP
    }

    /** Counts faults (a metric, in the gateway). */
    @FunctionalInterface
    public interface Counter {
        /** {@code leases} leases met {@code fault}. */
        void count(LeaseFault fault, Cause cause, int leases);

        Counter NONE = (fault, cause, leases) -> { };
    }
}
