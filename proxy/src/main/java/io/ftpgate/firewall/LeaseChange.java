package io.ftpgate.firewall;

import java.util.Objects;

/** One change of a batch ({@link Firewall#change}): apply or revoke a lease. */
public record LeaseChange(Kind kind, DataLease lease) {

    public enum Kind { APPLY, REVOKE }

    public LeaseChange {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(lease, "lease");
    }

    public static LeaseChange apply(DataLease lease) {
        return new LeaseChange(Kind.APPLY, lease);
    }

    public static LeaseChange revoke(DataLease lease) {
        return new LeaseChange(Kind.REVOKE, lease);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase() + " " + lease;
    }
}
