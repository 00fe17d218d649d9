package io.ftpgate.firewall;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one daemon thread that calls a {@link Firewall}, and its queue, for {@link LeaseExecutor}.
 * Everything runs in submission order. A call runs alone; lease changes ({@link LeaseChange}) that
 * are queued one after the other are taken off the queue together, up to {@code maxBatch} and never
 * the same lease twice, and handed over as one batch: under load, when changes queue up behind a
 * slow command, the next command carries all of them instead of one each.
 */
final class FirewallThread {

    private static final Logger LOG = LoggerFactory.getLogger(FirewallThread.class);

    /** A call to the firewall, on the firewall thread. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws FirewallException;
    }

    /** A queued lease change and the future its batch completes. */
    record Pending(LeaseChange change, CompletableFuture<Void> done) { }

    private sealed interface Task permits CallTask, ChangeTask { }

    private record CallTask(Runnable run, CompletableFuture<?> done) implements Task { }

    private record ChangeTask(Pending pending) implements Task { }

    private final Thread thread;
    private final int maxBatch;
    private final Consumer<List<Pending>> batches;
    // The thread takes from this queue itself: one lock and, when it sleeps, one wake-up per
    // submission (an executor in front of it added a second queue and a task per submission).
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queuedOrClosed = lock.newCondition();
    // Guarded by lock.
    private final ArrayDeque<Task> queue = new ArrayDeque<>();
    private boolean closed;
    private boolean started;

    /**
     * @param batches runs a batch on the firewall thread and completes every future of it
     */
    FirewallThread(String name, int maxBatch, Consumer<List<Pending>> batches) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be positive, not " + maxBatch);
        }
        this.maxBatch = maxBatch;
        this.batches = batches;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    /** Queues the call; the future completes on the firewall thread, exceptionally if the call threw. */
    <T> CompletableFuture<T> submit(Call<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        enqueue(new CallTask(() -> {
            try {
                result.complete(call.run());
            } catch (FirewallException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, result));
        return result;
    }

    /** Queues the change, to be made with the changes queued next to it. */
    CompletableFuture<Void> submit(LeaseChange change) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        enqueue(new ChangeTask(new Pending(change, done)));
        return done;
    }

    private void enqueue(Task task) {
        lock.lock();
        try {
            if (!closed) {
                if (!started) {
                    // Started with the first submission, like the executor it replaces: an
                    // executor that is never used has no thread.
                    thread.start();
                    started = true;
                }
                queue.add(task);
                queuedOrClosed.signal();
                return;
            }
        } finally {
            lock.unlock();
        }
        future(task).completeExceptionally(new FirewallException("firewall executor is closed"));
    }

    /** The firewall thread: runs what is queued, in order, until closed and empty. */
    private void run() {
        while (true) {
            Task first;
            List<Pending> batch = new ArrayList<>();
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    queuedOrClosed.awaitUninterruptibly();
                }
                first = queue.poll();
                if (first == null) {
                    return; // closed, and nothing left
                }
                if (first instanceof ChangeTask p) {
                    batch.add(p.pending());
                    Set<DataLease> inBatch = new HashSet<>();
                    inBatch.add(p.pending().change().lease());
                    while (batch.size() < maxBatch && queue.peek() instanceof ChangeTask next
                            && inBatch.add(next.pending().change().lease())) {
                        queue.poll();
                        batch.add(next.pending());
                    }
                }
            } finally {
                lock.unlock();
            }
            if (first instanceof CallTask c) {
                runCall(c);
            } else {
                runBatch(batch);
            }
        }
    }

    private static void runCall(CallTask c) {
        try {
            c.run().run();
        } catch (RuntimeException | Error e) {
            // The call completes its own future; this is a bug in it, and the thread goes on.
            LOG.error("a firewall call failed unexpectedly", e);
            c.done().completeExceptionally(e);
        }
    }

    private void runBatch(List<Pending> batch) {
        try {
            batches.accept(batch);
        } catch (RuntimeException | Error e) {
            LOG.error("a batch of {} lease change(s) failed unexpectedly", batch.size(), e);
        }
        for (Pending p : batch) {
            // A batch runner that forgot one must not leave its caller waiting forever. Only then is
            // the exception made: made for every change, its stack trace took a tenth of this thread's CPU.
            if (!p.done().isDone()) {
                p.done().completeExceptionally(new FirewallException(p.change() + ": not made (internal error)"));
            }
        }
    }

    private static CompletableFuture<?> future(Task task) {
        return task instanceof CallTask c ? c.done() : ((ChangeTask) task).pending().done();
    }

    /** How many calls and changes wait to run (for tests). */
    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets queued tasks finish, then ends the thread; later submissions fail. If the thread is
     * still busy after 30 s it is interrupted, and what is still queued then fails.
     */
    void close() {
        boolean running;
        lock.lock();
        try {
            closed = true;
            running = started;
            queuedOrClosed.signal();
        } finally {
            lock.unlock();
        }
        if (!running || Thread.currentThread() == thread) {
            return;
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            if (thread.isAlive()) {
                LOG.warn("firewall thread still busy after 30 s; interrupting it");
                thread.interrupt();
                failQueued();
            }
        } catch (InterruptedException e) {
            thread.interrupt();
            failQueued();
            Thread.currentThread().interrupt();
        }
    }

    /** Fails what is still queued (after an interrupt at close: it will not run). */
    private void failQueued() {
        List<Task> left;
        lock.lock();
        try {
            left = new ArrayList<>(queue);
            queue.clear();
        } finally {
            lock.unlock();
        }
        for (Task t : left) {
            future(t).completeExceptionally(new FirewallException("firewall executor closed before this ran"));
        }
    }
}
