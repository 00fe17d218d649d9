package io.ftpgate.data;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hands out candidate data ports from the configured range, round robin from a random start, so
 * that a port just closed (its firewall rule just removed) is the last to be reused. Whether a
 * port is free is the operating system's answer when binding; callers try the next on failure.
 */
public final class PortAllocator {
    private final int first;
    private final int size;
    private final AtomicInteger cursor;
    private final AtomicInteger inUse = new AtomicInteger();

    public PortAllocator(int first, int last) {
        if (first < 1 || last > 65535 || first > last) {
            throw new IllegalArgumentException("bad port range " + first + "-" + last);
        }
        this.first = first;
        this.size = last - first + 1;
        this.cursor = new AtomicInteger(ThreadLocalRandom.current().nextInt(size));
    }

    public int next() {
        return first + Math.floorMod(cursor.getAndIncrement(), size);
    }

    /** Data ports bound now (listeners not yet closed). */
    public int inUse() {
        return inUse.get();
    }

    public int size() {
        return size;
    }

    void bound() {
        inUse.incrementAndGet();
    }

    void released() {
        inUse.decrementAndGet();
    }

    /** How many candidates a caller should try before giving up. */
    public int attempts() {
        return Math.min(size, 32);
    }
}
