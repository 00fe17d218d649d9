package io.ftpgate.firewall;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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

    private final ExecutorService thread;
    private final int maxBatch;
    private final Consumer<List<Pending>> batches;
    // Guarded by itself. One drain() is scheduled per task, so none waits unseen.
    private final Deque<Task> queue = new ArrayDeque<>();

    /**
     * @param batches runs a batch on the firewall thread and completes every future of it
     */
    FirewallThread(String name, int maxBatch, Consumer<List<Pending>> batches) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be positive, not " + maxBatch);
        }
        this.maxBatch = maxBatch;
        this.batches = batches;
        this.thread = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            return t;
        });
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
        synchronized (queue) {
            queue.add(task);
        }
        try {
            thread.execute(this::drain);
        } catch (RejectedExecutionException e) {
            boolean mine;
            synchronized (queue) {
                mine = queue.remove(task);
            }
            if (mine) {
                future(task).completeExceptionally(new FirewallException("firewall executor is closed", e));
            }
        }
    }

    /** On the firewall thread: runs the first queued call, or the run of changes at the head of the queue. */
    private void drain() {
        Runnable call = null;
        List<Pending> batch = new ArrayList<>();
        synchronized (queue) {
            Task first = queue.poll();
            if (first instanceof CallTask c) {
                call = c.run();
            } else if (first instanceof ChangeTask p) {
                batch.add(p.pending());
                Set<DataLease> inBatch = new HashSet<>();
                inBatch.add(p.pending().change().lease());
                while (batch.size() < maxBatch && queue.peek() instanceof ChangeTask next
                        && inBatch.add(next.pending().change().lease())) {
                    queue.poll();
                    batch.add(next.pending());
                }
            }
        }
        if (call != null) {
            call.run();
        } else if (!batch.isEmpty()) {
            try {
                batches.accept(batch);
            } catch (RuntimeException e) {
                LOG.error("a batch of {} lease change(s) failed unexpectedly", batch.size(), e);
            }
            for (Pending p : batch) {
                // A batch runner that forgot one must not leave its caller waiting forever.
                p.done().completeExceptionally(new FirewallException(p.change() + ": not made (internal error)"));
            }
        }
    }

    private static CompletableFuture<?> future(Task task) {
        return task instanceof CallTask c ? c.done() : ((ChangeTask) task).pending().done();
    }

    /** How many calls and changes wait to run (for tests). */
    int queued() {
        synchronized (queue) {
            return queue.size();
        }
    }

    /** Lets queued tasks finish, then ends the thread; later submissions fail. */
    void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("firewall thread still busy after 30 s; interrupting it");
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
