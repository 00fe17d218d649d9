package io.ftpgate.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Many clients connecting to the gateway at the same instant (one thread each, released by one
 * latch), for floods and limits that must hold under concurrent admission. Each reads its first
 * reply (220 or a refusal); the connections stay open until {@link #close}.
 */
public final class ConnectionBurst implements AutoCloseable {
    private final List<RawFtpClient> clients = new ArrayList<>();
    private final List<Integer> firstCodes = new ArrayList<>();

    private ConnectionBurst() {
    }

    /** Opens {@code count} connections to {@code gateway} at once and reads each one's first reply. */
    public static ConnectionBurst open(InetSocketAddress gateway, int count) throws Exception {
        ConnectionBurst burst = new ConnectionBurst();
        ExecutorService pool = Executors.newFixedThreadPool(count);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> codes = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                codes.add(pool.submit(() -> {
                    go.await();
                    RawFtpClient c = new RawFtpClient(gateway);
                    synchronized (burst.clients) {
                        burst.clients.add(c);
                    }
                    return c.read().code();
                }));
            }
            go.countDown();
            for (Future<Integer> f : codes) {
                burst.firstCodes.add(f.get());
            }
        } catch (Exception e) {
            burst.close();
            throw e;
        } finally {
            pool.shutdownNow();
        }
        return burst;
    }

    /** How many connections had {@code code} as their first reply. */
    public long count(int code) {
        return firstCodes.stream().filter(c -> c == code).count();
    }

    @Override
    public void close() throws IOException {
        synchronized (clients) {
            for (RawFtpClient c : clients) {
                c.close();
            }
        }
    }
}
