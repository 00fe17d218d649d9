package io.ftpgate.session;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Failed logins per client address, and the bans they lead to (ProFTPD's mod_ban, fail2ban,
 * without an external tool): {@code limit} failures within {@code window} ban the address for
 * {@code ban}. Shared by every session of a gateway and kept across reloads; each call takes the
 * limits of the caller's settings.
 *
 * <p>Memory is bounded: an entry holds at most {@code limit} failure times, entries whose ban and
 * failures are over are dropped, and at most {@code maxAddresses} addresses are tracked. When the
 * table is full, finished entries are swept (at most once a second), then entries without a ban;
 * a live ban is never dropped to make room, so a flood of new addresses cannot lift one, and
 * failures of addresses that find no room are not counted until there is.
 */
public final class LoginThrottle {
    /** The limits one call is made under (from abuse.login-failures). */
    public record Limits(int limit, Duration window, Duration ban, int maxAddresses) {
        public boolean enabled() {
            return limit > 0;
        }
    }

    /** Failure times (nanos, oldest first) within the window, and the end of a ban (0: none). */
    private record Entry(long[] failures, long bannedUntil) {
        boolean isOver(long now, long windowNanos) {
            return bannedUntil - now <= 0
                    && (failures.length == 0 || now - failures[failures.length - 1] >= windowNanos);
        }
    }

    private static final long SWEEP_INTERVAL = Duration.ofSeconds(1).toNanos();

    private final ConcurrentHashMap<InetAddress, Entry> entries = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private volatile long lastSweep;

    /** @param clock nanoseconds, as {@link System#nanoTime()} */
    public LoginThrottle(LongSupplier clock) {
        this.clock = clock;
        this.lastSweep = clock.getAsLong() - SWEEP_INTERVAL;
    }

    /** How much longer {@code client} is banned; zero if it is not. */
    public Duration bannedFor(InetAddress client) {
        Entry e = entries.get(client);
        long left = e == null ? 0 : e.bannedUntil() - clock.getAsLong();
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    /**
     * Counts a failed login of {@code client}.
     *
     * @return true if this failure started a ban
     */
    public boolean failed(InetAddress client, Limits limits) {
        if (!limits.enabled()) {
            return false;
        }
        long now = clock.getAsLong();
        long window = limits.window().toNanos();
        if (!entries.containsKey(client) && entries.size() >= limits.maxAddresses() && !makeRoom(now, window, limits)) {
            return false;
        }
        boolean[] banned = {false};
        entries.compute(client, (k, e) -> {
            if (e != null && e.bannedUntil() - now > 0) {
                return e; // already banned: a failure in a session that started before the ban
            }
            long[] recent = e == null ? new long[0]
                    : Arrays.stream(e.failures()).filter(t -> now - t < window).toArray();
            if (recent.length + 1 >= limits.limit()) {
                banned[0] = true;
                return new Entry(new long[0], now + limits.ban().toNanos());
            }
            long[] next = Arrays.copyOf(recent, recent.length + 1);
            next[recent.length] = now;
            return new Entry(next, 0);
        });
        return banned[0];
    }

    /** Frees room for one more address; false if every tracked address is banned. */
    private boolean makeRoom(long now, long window, Limits limits) {
        if (now - lastSweep >= SWEEP_INTERVAL) {
            lastSweep = now;
            entries.entrySet().removeIf(x -> x.getValue().isOver(now, window));
        }
        if (entries.size() < limits.maxAddresses()) {
            return true;
        }
        var it = entries.entrySet().iterator();
        while (it.hasNext() && entries.size() >= limits.maxAddresses()) {
            if (it.next().getValue().bannedUntil() - now <= 0) {
                it.remove();
            }
        }
        return entries.size() < limits.maxAddresses();
    }

    /** Addresses tracked now (failures or bans). */
    public int tracked() {
        return entries.size();
    }
}
