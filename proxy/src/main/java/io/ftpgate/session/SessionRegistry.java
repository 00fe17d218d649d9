package io.ftpgate.session;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** The live sessions of a gateway: numbering, the session limit, and draining at shutdown. */
public final class SessionRegistry {
    private final ConcurrentHashMap<Long, ControlSession> sessions = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile int maxSessions;

    public SessionRegistry(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    public int maxSessions() {
        return maxSessions;
    }

    /** A new limit (reload); sessions above it keep running. */
    public void maxSessions(int max) {
        this.maxSessions = max;
    }

    long nextId() {
        return ids.incrementAndGet();
    }

    /** Registers a session unless the gateway is full or draining. */
    boolean admit(ControlSession session) {
        if (draining.get() || sessions.size() >= maxSessions) {
            return false;
        }
        sessions.put(session.id(), session);
        return true;
    }

    void remove(ControlSession session) {
        sessions.remove(session.id());
    }

    public int size() {
        return sessions.size();
    }

    public boolean isDraining() {
        return draining.get();
    }

    /**
     * Stops admitting sessions, waits up to {@code grace} for the running ones to end by themselves,
     * then ends the rest; returns how many had to be ended.
     */
    public int drain(Duration grace) throws InterruptedException {
        draining.set(true);
        long deadline = System.nanoTime() + grace.toNanos();
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
        List<ControlSession> rest = List.copyOf(sessions.values());
        rest.forEach(s -> s.endFromOutside("gateway shutting down"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!sessions.isEmpty() && System.nanoTime() < until) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return rest.size();
    }
}
