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

    @Override
    public synchronized void apply(DataLease lease) throws FirewallException {
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
