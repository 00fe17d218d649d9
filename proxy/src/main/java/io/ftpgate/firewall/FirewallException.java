package io.ftpgate.firewall;

/** A firewall change failed; the message says which command and why, for a log line. */
public final class FirewallException extends Exception {
    public FirewallException(String message) {
        super(message);
    }

    public FirewallException(String message, Throwable cause) {
        super(message, cause);
    }
}
