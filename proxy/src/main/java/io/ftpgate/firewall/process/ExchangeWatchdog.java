package io.ftpgate.firewall.process;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills the process of a {@link Conversation} exchange that outlives its deadline. One daemon
 * thread for all of them, which sleeps until the earliest deadline it knows of (at most
 * {@link #IDLE_NANOS}), and is woken by a new exchange only if that one's deadline comes before
 * the thread's next wake-up: an exchange that starts while the thread sleeps towards an earlier or
 * the idle wake-up costs no wake-up at all. (A task scheduled per exchange on a
 * {@code ScheduledThreadPoolExecutor} woke its thread at every exchange that found its queue
 * empty, and again at each cancelled task's deadline, since cancelling leaves the task queued.)
 */
final class ExchangeWatchdog {

    /** The longest the thread sleeps without a deadline to watch. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** One exchange being watched: killed at its deadline unless it ends first. */
    static final class Watch {
        private final Process process;
        private final long deadline;
        private volatile boolean overdue;

        private Watch(Process process, long deadline) {
            this.process = process;
            this.deadline = deadline;
        }

        /** Whether the watchdog killed the process because the exchange was overdue. */
        boolean overdue() {
            return overdue;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(ExchangeWatchdog.class);
    private static final Set<Watch> WATCHED = ConcurrentHashMap.newKeySet();
    /** When the thread wakes next (System.nanoTime); an exchange due before that wakes it. */
    private static volatile long nextWake;
    private static final Thread THREAD = start();

    private static Thread start() {
        Thread t = new Thread(ExchangeWatchdog::run, "ftpgate-conversation-watchdog");
        t.setDaemon(true);
        nextWake = System.nanoTime() + IDLE_NANOS;
        t.start();
        return t;
    }

    /**
     * Starts watching an exchange of {@code process}: at {@code timeoutNanos} from now, unless
     * {@link #release} came first, the watch is marked overdue (before the kill, so that the EOF
     * the kill causes is never taken for a crash) and the process is killed.
     */
    static Watch watch(Process process, long timeoutNanos) {
        Watch w = new Watch(process, System.nanoTime() + timeoutNanos);
        WATCHED.add(w);
        // Read after the add: if the thread has already planned a wake-up after this deadline,
        // its scan may have missed this watch, so it is woken to look again.
        if (w.deadline - nextWake < 0) {
            LockSupport.unpark(THREAD);
        }
        return w;
    }

    /** Stops watching; the process is no longer killed for this exchange. */
    static void release(Watch w) {
        WATCHED.remove(w);
    }

    /** How many exchanges are watched (for tests). */
    static int watched() {
        return WATCHED.size();
    }

    private static void run() {
        while (true) {
            long now = System.nanoTime();
            // Published before the scan: a watch added after the scan began reads this (or the
            // earlier value below) and wakes the thread if it is due sooner.
            nextWake = now + IDLE_NANOS;
            long wake = now + IDLE_NANOS;
            for (Watch w : WATCHED) {
                if (w.deadline - now <= 0) {
                    if (WATCHED.remove(w)) {
                        w.overdue = true;
                        try {
                            w.process.destroyForcibly();
                        } catch (RuntimeException e) {
                            // Cannot happen for a child process; the thread must live on regardless.
                            LOG.error("cannot kill an overdue process (pid {})", w.process.pid(), e);
                        }
                    }
                } else if (w.deadline - wake < 0) {
                    wake = w.deadline;
                }
            }
            nextWake = wake;
            LockSupport.parkNanos(wake - now);
        }
    }

    private ExchangeWatchdog() {
    }
}
