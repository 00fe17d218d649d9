package io.ftpgate.session;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live sessions of a gateway: numbering, the session limit, the maintenance drain (no exit)
 * and the drain at shutdown.
 *
 * <p>A maintenance drain ({@link #startDrain}) still admits sessions for a grace period, so that
 * connections a load balancer sends before its health check notices are served, and refuses them
 * after it; {@link #undrain} admits again. Shutdown ({@link #drain}) refuses at once and for good.
 */
public final class SessionRegistry {
    private final ConcurrentHashMap<Long, ControlSession> sessions = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile boolean maintenance;
    /** {@link System#nanoTime} until which a maintenance drain still admits sessions. */
    private volatile long admitUntil;
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

    /** Registers a session unless the gateway is full, stopping, or draining past its grace. */
    boolean admit(ControlSession session) {
        if (stopping.get() || (maintenance && System.nanoTime() - admitUntil >= 0) || sessions.size() >= maxSessions) {
            return false;
        }
        sessions.put(session.id(), session);
        return true;
    }

    /** Why {@link #admit} refused, for the 421 and the log line. */
    String refusal() {
        if (stopping.get()) {
            return "the gateway is shutting down";
        }
        return maintenance ? "the gateway is draining" : "too many sessions";
    }

    void remove(ControlSession session) {
        sessions.remove(session.id());
    }

    public int size() {
        return sessions.size();
    }

    /** Whether new sessions are unwelcome: a maintenance drain or shutdown (also during the grace). */
    public boolean isDraining() {
        return maintenance || stopping.get();
    }

    /**
     * Starts a maintenance drain: sessions are still admitted for {@code admitFor}, then refused;
     * running sessions go on. Returns false (and changes nothing) if one is already under way.
     */
    public boolean startDrain(Duration admitFor) {
        if (maintenance) {
            return false;
        }
        admitUntil = System.nanoTime() + admitFor.toNanos();
        maintenance = true;
        return true;
    }

    /** Ends a maintenance drain: sessions are admitted again. Returns false if none was under way. */
    public boolean undrain() {
        boolean was = maintenance;
        maintenance = false;
        return was;
    }

    /** Ends every running session with 421 and {@code why}; returns how many. */
    public int endAll(String why) {
        List<ControlSession> rest = List.copyOf(sessions.values());
        rest.forEach(s -> s.endFromOutside(why));
        return rest.size();
    }

    /**
     * Shutdown: stops admitting sessions, waits up to {@code grace} for the running ones to end by
     * themselves, then ends the rest; returns how many had to be ended.
     */
    public int drain(Duration grace) throws InterruptedException {
        stopping.set(true);
        long deadline = System.nanoTime() + grace.toNanos();
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
        int ended = endAll("gateway shutting down");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!sessions.isEmpty() && System.nanoTime() < until) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return ended;
    }
}
