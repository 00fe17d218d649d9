package io.ftpgate.firewall;

/**
 * A firewall change failed; the message says which command and why, for a log line.
 *
 * <p>A failed apply says what it may have left in the firewall ({@link #residue()}): a command that
 * timed out and was killed, or one of several that failed after the first went in, may have
 * committed part of the lease. Backends then try to remove that part again (they compensate) and
 * say whether it worked; {@link LeaseExecutor} counts both outcomes and keeps a lease that may
 * still be in force, so that the session's end and {@link LeaseExecutor#stop()} remove it.
 */
public final class FirewallException extends Exception {

    /** What a failed change may have left in the firewall. */
    public enum Residue {
        /** Nothing: it failed before it changed anything. */
        NONE,
        /** It may have committed something, which was removed again (compensated). */
        UNDONE,
        /** It may have committed something, and removing it failed: the lease may be in force. */
        POSSIBLE
    }

    private final Residue residue;
    private final boolean timedOut;

    public FirewallException(String message) {
        this(message, null, Residue.NONE, false);
    }

    public FirewallException(String message, Throwable cause) {
        this(message, cause, Residue.NONE, false);
    }

    /** @param timedOut whether the failure was a command killed at its timeout (its effect unknown) */
    public FirewallException(String message, Throwable cause, Residue residue, boolean timedOut) {
        super(message, cause);
        this.residue = java.util.Objects.requireNonNull(residue, "residue");
        this.timedOut = timedOut;
    }

    /**
     * {@code failure} after the backend tried to remove what it may have committed:
     * {@link Residue#UNDONE} if {@code undoFailure} is null, else {@link Residue#POSSIBLE} with
     * {@code undoFailure} attached as suppressed.
     */
    public static FirewallException compensated(FirewallException failure, FirewallException undoFailure) {
        FirewallException e = new FirewallException(failure.getMessage(), failure.getCause(),
                undoFailure == null ? Residue.UNDONE : Residue.POSSIBLE, failure.timedOut());
        for (Throwable earlier : failure.getSuppressed()) {
            e.addSuppressed(earlier);
        }
        if (undoFailure != null) {
            e.addSuppressed(undoFailure);
        }
        return e;
    }

    public Residue residue() {
        return residue;
    }

    /** Whether a command was killed at its timeout: it may or may not have done its work. */
    public boolean timedOut() {
        return timedOut;
    }
}
