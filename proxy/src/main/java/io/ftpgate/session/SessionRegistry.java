package io.ftpgate.session;

import io.ftpgate.policy.Reason;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live sessions of a gateway: numbering, the session limits (over all listeners, per client
 * address, per client IPv6 /64), the maintenance drain (no exit) and the drain at shutdown.
 *
 * <p>A maintenance drain ({@link #startDrain}) still admits sessions for a grace period, so that
 * connections a load balancer sends before its health check notices are served, and refuses them
 * after it; {@link #undrain} admits again. Shutdown ({@link #drain}) refuses at once and for good.
 *
 * <p>Sessions start on several event loops at once, so each limit is taken with one atomic
 * check-and-increment of its own counter (never "look at the size, then add"): a limit is never
 * overshot. A session that passes one limit and fails the next gives back what it took.
 */
public final class SessionRegistry {
    /** What one admitted session holds: its counts are given back under the same keys. */
    private record Entry(ControlSession session, InetAddress address, InetAddress prefix) {}

    private final ConcurrentHashMap<Long, Entry> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    /** Live sessions per client address and per IPv6 /64; an entry goes when its count reaches 0. */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<InetAddress, Integer> perPrefix = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile boolean maintenance;
    /** {@link System#nanoTime} until which a maintenance drain still admits sessions. */
    private volatile long admitUntil;
    private volatile int maxSessions;

    /** The per-client limits a session is admitted under (0: no limit); they come from its settings. */
    public record ClientLimits(int perAddress, int perIpv6Prefix) {
        public static final ClientLimits NONE = new ClientLimits(0, 0);
    }

    /** Why a session was not admitted, and what its 421 says. */
    public record Refusal(Reason reason, Object... args) {}

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

    /**
     * Registers a session from {@code client} unless the gateway is stopping, draining past its
     * grace, or a limit is reached.
     *
     * @return empty if admitted, else why not
     */
    Optional<Refusal> admit(ControlSession session, InetAddress client, ClientLimits limits) {
        if (stopping.get()) {
            return Optional.of(new Refusal(Reason.SHUTTING_DOWN));
        }
        if (maintenance && System.nanoTime() - admitUntil >= 0) {
            return Optional.of(new Refusal(Reason.DRAINING));
        }
        int max = maxSessions;
        if (count.getAndUpdate(n -> n < max ? n + 1 : n) >= max) {
            return Optional.of(new Refusal(Reason.GATEWAY_FULL));
        }
        if (!take(perAddress, client, limits.perAddress())) {
            count.decrementAndGet();
            return Optional.of(new Refusal(Reason.SESSIONS_PER_ADDRESS, limits.perAddress()));
        }
        InetAddress prefix = ipv6Prefix(client);
        if (prefix != null && !take(perPrefix, prefix, limits.perIpv6Prefix())) {
            give(perAddress, client);
            count.decrementAndGet();
            return Optional.of(new Refusal(Reason.SESSIONS_PER_PREFIX, io.netty.util.NetUtil.toAddressString(prefix) + "/64",
                    limits.perIpv6Prefix()));
        }
        sessions.put(session.id(), new Entry(session, client, prefix));
        return Optional.empty();
    }

    void remove(ControlSession session) {
        Entry e = sessions.remove(session.id());
        if (e != null) {
            give(perAddress, e.address());
            if (e.prefix() != null) {
                give(perPrefix, e.prefix());
            }
            count.decrementAndGet();
        }
    }

    /** One more session under {@code key}, unless it has {@code limit} already (0: no limit). Atomic. */
    private static boolean take(ConcurrentHashMap<InetAddress, Integer> counts, InetAddress key, int limit) {
        boolean[] taken = {false};
        counts.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (limit > 0 && now >= limit) {
                return n;
            }
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    private static void give(ConcurrentHashMap<InetAddress, Integer> counts, InetAddress key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** The /64 network of an IPv6 address (its first 64 bits), or null for IPv4. */
    static InetAddress ipv6Prefix(InetAddress a) {
        if (!(a instanceof Inet6Address)) {
            return null;
        }
        byte[] b = a.getAddress();
        java.util.Arrays.fill(b, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 16 bytes are always an address
        }
    }

    /** Sessions from {@code client} now (for tests and tools). */
    public int sessionsFrom(InetAddress client) {
        return perAddress.getOrDefault(client, 0);
    }

    /** Client addresses and IPv6 networks with a live session: what the per-client counts hold. */
    public int trackedClients() {
        return perAddress.size() + perPrefix.size();
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
        List<ControlSession> rest = sessions.values().stream().map(Entry::session).toList();
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
