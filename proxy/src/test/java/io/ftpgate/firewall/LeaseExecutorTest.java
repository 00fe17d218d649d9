package io.ftpgate.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease.Direction;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ftpgate.firewall.FirewallException.Residue;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LeaseExecutorTest {

    private final RecordingFirewall firewall = new RecordingFirewall();
    /** What the executor counted, as "FAULT CAUSE n". */
    private final List<String> faults = Collections.synchronizedList(new ArrayList<>());
    private final LeaseExecutor executor = new LeaseExecutor(firewall,
            (fault, cause, leases) -> faults.add(fault + " " + cause + " " + leases));
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(LeaseExecutor.class);

    @BeforeEach
    void captureLog() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void close() {
        executor.close();
        logger.detachAppender(log);
    }

    @Test
    void runsCallsInSubmissionOrderOnTheFirewallThread() throws Exception {
        assertThat(executor.start()).isEqualTo(3);
        DataLease a = lease(1, 40001);
        DataLease b = lease(1, 40002);
        CompletableFuture<Void> applyA = executor.apply(a);
        CompletableFuture<Void> applyB = executor.apply(b);
        CompletableFuture<Void> revokeA = executor.revoke(a);
        CompletableFuture.allOf(applyA, applyB, revokeA).get(5, TimeUnit.SECONDS);
        executor.stop();

        assertThat(firewall.calls).filteredOn(call -> !call.startsWith("batch "))
                .containsExactly("start", "apply " + a, "apply " + b, "revoke " + a, "revoke " + b, "stop");
        assertThat(firewall.threads).containsOnly(LeaseExecutor.THREAD_NAME);
    }

    @Test
    void futuresCompleteOnTheFirewallThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        CompletableFuture<String> completedOnFuture = executor.apply(lease(1, 40001))
                .thenApply(ignored -> Thread.currentThread().getName());
        release.countDown();
        String completedOn = completedOnFuture.get(5, TimeUnit.SECONDS);
        assertThat(completedOn).isEqualTo(LeaseExecutor.THREAD_NAME);
    }

    @Test
    void countsActiveLeases() throws Exception {
        DataLease a = lease(1, 40001);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.apply(lease(2, 40002)).get(5, TimeUnit.SECONDS);
        assertThat(executor.activeLeases()).isEqualTo(2);

        executor.revoke(a).get(5, TimeUnit.SECONDS);
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void applyingAnActiveLeaseAgainDoesNotAddASecondRule() throws Exception {
        DataLease a = lease(1, 40001);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        assertThat(firewall.calls).containsExactly("apply " + a);
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void failedApplyCompletesExceptionallyAndIsNotActive() {
        DataLease a = lease(1, 40001);
        firewall.failing.add("apply " + a);
        assertThatThrownBy(() -> executor.apply(a).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(FirewallException.class).hasMessageContaining("refused apply");
        assertThat(executor.activeLeases()).isZero();
    }

    @Test
    void failedRevokeCompletesExceptionallyAndStaysActive() throws Exception {
        DataLease a = lease(1, 40001);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        firewall.failing.add("revoke " + a);

        assertThatThrownBy(() -> executor.revoke(a).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(FirewallException.class).hasMessageContaining("refused revoke");
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void aFailureDoesNotStopLaterCalls() throws Exception {
        DataLease a = lease(1, 40001);
        DataLease b = lease(1, 40002);
        firewall.failing.add("apply " + a);
        CompletableFuture<Void> first = executor.apply(a);
        CompletableFuture<Void> second = executor.apply(b);
        second.get(5, TimeUnit.SECONDS);
        assertThat(first).isCompletedExceptionally();
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void revokeSessionRevokesOnlyThatSessionsActiveLeases() throws Exception {
        DataLease a = lease(7, 40001);
        DataLease b = lease(7, 40002);
        DataLease other = lease(8, 40003);
        for (DataLease l : List.of(a, b, other)) {
            executor.apply(l).get(5, TimeUnit.SECONDS);
        }

        assertThat(executor.revokeSession(7).get(5, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(executor.activeLeases()).isEqualTo(1);
        assertThat(firewall.calls).contains("revoke " + a, "revoke " + b).doesNotContain("revoke " + other);
        assertThat(executor.revokeSession(7).get(5, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void revokeSessionTriesEveryLeaseAndReportsTheFailure() throws Exception {
        DataLease a = lease(7, 40001);
        DataLease b = lease(7, 40002);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.apply(b).get(5, TimeUnit.SECONDS);
        firewall.failing.add("revoke " + a);

        assertThatThrownBy(() -> executor.revokeSession(7).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(FirewallException.class).hasMessageContaining("session 7");
        assertThat(firewall.calls).contains("revoke " + a, "revoke " + b);
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void stopRevokesEveryActiveLeaseEvenAfterAFailureThenStopsTheFirewall() throws Exception {
        DataLease a = lease(1, 40001);
        DataLease b = lease(2, 40002);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.apply(b).get(5, TimeUnit.SECONDS);
        firewall.failing.add("revoke " + a);

        executor.stop();

        assertThat(firewall.calls).contains("revoke " + a, "revoke " + b).endsWith("stop");
        assertThat(executor.activeLeases()).isZero();
    }

    @Test
    void blockingStartAndStopRethrowTheFirewallException() {
        firewall.failing.add("start");
        firewall.failing.add("stop");
        assertThatThrownBy(executor::start).isInstanceOf(FirewallException.class).hasMessageContaining("refused start");
        assertThatThrownBy(executor::stop).isInstanceOf(FirewallException.class).hasMessageContaining("refused stop");
    }

    @Test
    void interceptRunsOnTheFirewallThreadAndRethrows() throws Exception {
        Interception spec = new Interception(1, 100, List.of(), List.of(), List.of(21), 2121);
        executor.intercept(spec);
        assertThat(firewall.calls).containsExactly("intercept " + spec);
        assertThat(firewall.threads).containsExactly(LeaseExecutor.THREAD_NAME);
        firewall.failing.add("intercept " + spec);
        assertThatThrownBy(() -> executor.intercept(spec)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("refused intercept");
    }

    @Test
    void closeLetsQueuedCallsFinishAndLaterCallsFail() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        CompletableFuture<Void> queued = executor.apply(lease(1, 40001));
        release.countDown();
        executor.close();

        assertThat(queued).isCompleted().isNotCompletedExceptionally();
        assertThatThrownBy(() -> executor.apply(lease(1, 40002)).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(FirewallException.class).hasMessageContaining("closed");
    }

    @Test
    void anErrorInABatchFailsItsChangesAndTheFirewallThreadGoesOn() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        CompletableFuture<Void> first = executor.apply(lease(1, 40001));
        await().until(() -> firewall.blocked);
        firewall.blockApplyUntil = null;
        firewall.batchError = new AssertionError("backend bug");
        CompletableFuture<Void> a = executor.apply(lease(2, 40002));
        CompletableFuture<Void> b = executor.apply(lease(3, 40003));
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        for (CompletableFuture<Void> f : List.of(a, b)) {
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        }

        // The same thread takes the next call: nothing queued is left waiting.
        DataLease c = lease(4, 40004);
        executor.apply(c).get(5, TimeUnit.SECONDS);
        assertThat(firewall.calls).endsWith("apply " + c);
        assertThat(firewall.threads).containsOnly(LeaseExecutor.THREAD_NAME);
    }

    // --- batches ---

    @Test
    void changesQueuedBehindASlowCallAreMadeAsOneBatchAndEachFailsOnItsOwn() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        DataLease slow = lease(1, 40001);
        CompletableFuture<Void> first = executor.apply(slow);
        await().until(() -> firewall.blocked);
        firewall.blockApplyUntil = null;
        DataLease a = lease(2, 40002);
        DataLease b = lease(3, 40003);
        firewall.failing.add("apply " + b);
        CompletableFuture<Void> revokeSlow = executor.revoke(slow);
        CompletableFuture<Void> applyA = executor.apply(a);
        CompletableFuture<Void> applyB = executor.apply(b);
        release.countDown();

        applyA.get(5, TimeUnit.SECONDS);
        revokeSlow.get(5, TimeUnit.SECONDS);
        first.get(5, TimeUnit.SECONDS);
        assertThatThrownBy(() -> applyB.get(5, TimeUnit.SECONDS)).cause().hasMessageContaining("refused apply");
        assertThat(firewall.calls).containsExactly("apply " + slow, "batch 3", "revoke " + slow, "apply " + a, "apply " + b);
        assertThat(executor.activeLeases()).isEqualTo(1);
        assertThat(firewall.threads).containsOnly(LeaseExecutor.THREAD_NAME);
    }

    @Test
    void aBatchNeverHoldsOneLeaseTwiceNorCrossesAnotherCall() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        CompletableFuture<Void> first = executor.apply(lease(1, 40001));
        await().until(() -> firewall.blocked);
        firewall.blockApplyUntil = null;
        DataLease a = lease(2, 40002);
        DataLease b = lease(3, 40003);
        DataLease c = lease(4, 40004);
        Interception spec = new Interception(1, 100, List.of(), List.of(), List.of(21), 2121);
        List<CompletableFuture<?>> all = new ArrayList<>(List.of(first, executor.apply(a), executor.apply(b),
                executor.revoke(a)));
        CompletableFuture<Void> intercepted = CompletableFuture.runAsync(() -> {
            try {
                executor.intercept(spec);
            } catch (FirewallException e) {
                throw new IllegalStateException(e);
            }
        });
        await().until(() -> executor.queued() == 4);
        all.add(executor.apply(c));
        release.countDown();
        for (CompletableFuture<?> f : all) {
            f.get(5, TimeUnit.SECONDS);
        }
        intercepted.get(5, TimeUnit.SECONDS);

        assertThat(firewall.calls).containsExactly("apply " + lease(1, 40001), "batch 2", "apply " + a, "apply " + b,
                "revoke " + a, "intercept " + spec, "apply " + c);
        assertThat(executor.activeLeases()).isEqualTo(3);
    }

    @Test
    void aBatchOfAnActiveLeaseAndNewOnesAddsOnlyTheNewOnes() throws Exception {
        DataLease a = lease(2, 40002);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        CountDownLatch release = new CountDownLatch(1);
        firewall.blockApplyUntil = release;
        CompletableFuture<Void> first = executor.apply(lease(1, 40001));
        await().until(() -> firewall.blocked);
        firewall.blockApplyUntil = null;
        DataLease b = lease(3, 40003);
        DataLease c = lease(4, 40004);
        List<CompletableFuture<Void>> all = List.of(first, executor.apply(a), executor.apply(b), executor.apply(c));
        release.countDown();
        for (CompletableFuture<Void> f : all) {
            f.get(5, TimeUnit.SECONDS);
        }
        assertThat(firewall.calls).filteredOn(call -> call.equals("apply " + a)).hasSize(1);
        assertThat(firewall.calls).containsSubsequence("batch 2", "apply " + b, "apply " + c);
    }

    // --- failed applies that may have left something behind (compensation) ---

    @Test
    void anApplyTheBackendUndidIsLoggedCountedAndNotKept() {
        DataLease a = lease(7, 40001);
        firewall.throwing.put("apply " + a, new FirewallException("iptables -A timed out", null, Residue.UNDONE, true));

        assertThatThrownBy(() -> executor.apply(a).get(5, TimeUnit.SECONDS)).cause().hasMessageContaining("timed out");
        assertThat(executor.activeLeases()).isZero();
        assertThat(faults).containsExactly("COMPENSATED TIMEOUT 1");
        assertThat(logged(Level.WARN)).singleElement().asString().contains(a.toString(), "removed again");
    }

    @Test
    void anApplyThatChangedNothingIsNeitherCountedNorKept() {
        DataLease a = lease(7, 40001);
        firewall.failing.add("apply " + a);
        assertThatThrownBy(() -> executor.apply(a).get(5, TimeUnit.SECONDS)).cause().hasMessageContaining("refused");
        assertThat(faults).isEmpty();
        assertThat(executor.activeLeases()).isZero();
    }

    @Test
    void anApplyWhoseUndoFailedIsKeptAsDoubtfulAndRemovedByTheSessionsSafetyNet() throws Exception {
        DataLease a = lease(7, 40001);
        FirewallException failure = new FirewallException("iptables -A timed out", null, Residue.POSSIBLE, true);
        failure.addSuppressed(new FirewallException("iptables -D timed out"));
        firewall.throwing.put("apply " + a, failure);

        assertThatThrownBy(() -> executor.apply(a).get(5, TimeUnit.SECONDS)).cause().isSameAs(failure);
        assertThat(executor.activeLeases()).as("it may be in force").isEqualTo(1);
        assertThat(faults).containsExactly("UNCOMPENSATED TIMEOUT 1");
        assertThat(logged(Level.ERROR)).singleElement().asString().contains(a.toString(), "iptables -D timed out");

        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(firewall.calls).containsExactly("apply " + a, "revoke " + a);
        assertThat(executor.activeLeases()).isZero();
        assertThat(faults).containsExactly("UNCOMPENSATED TIMEOUT 1", "DOUBTFUL_REMOVED SESSION_END 1");
        assertThat(logged(Level.WARN)).as("a doubtful lease is no leak").isEmpty();
    }

    @Test
    void aDoubtfulLeaseIsRemovedAtStop() throws Exception {
        DataLease a = lease(7, 40001);
        firewall.throwing.put("apply " + a, new FirewallException("iptables -A failed", null, Residue.POSSIBLE, false));
        assertThat(executor.apply(a)).failsWithin(5, TimeUnit.SECONDS);

        executor.stop();
        assertThat(firewall.calls).containsExactly("apply " + a, "revoke " + a, "stop");
        assertThat(faults).containsExactly("UNCOMPENSATED ERROR 1", "DOUBTFUL_REMOVED STOP 1");
    }

    @Test
    void aBackendThatThrowsUncheckedMayHaveLeftTheLeaseInForce() throws Exception {
        DataLease a = lease(7, 40001);
        firewall.throwing.put("apply " + a, new IllegalStateException("backend bug"));
        assertThat(executor.apply(a)).failsWithin(5, TimeUnit.SECONDS);
        assertThat(faults).containsExactly("UNCOMPENSATED ERROR 1");
        assertThat(executor.revokeSession(7).get(5, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test
    void applyingADoubtfulLeaseAgainRemovesItFirstSoItIsNeverInTwice() throws Exception {
        DataLease a = lease(7, 40001);
        firewall.throwing.put("apply " + a, new FirewallException("timed out", null, Residue.POSSIBLE, true));
        assertThat(executor.apply(a)).failsWithin(5, TimeUnit.SECONDS);
        firewall.throwing.clear();

        executor.apply(a).get(5, TimeUnit.SECONDS);
        assertThat(firewall.calls).containsExactly("apply " + a, "revoke " + a, "apply " + a);
        assertThat(executor.activeLeases()).isEqualTo(1);
        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).as("now an ordinary active lease").isEqualTo(1);
        assertThat(faults).containsExactly("UNCOMPENSATED TIMEOUT 1", "LEAKED SESSION_END 1");
    }

    // --- the safety net at a session's end ---

    @Test
    void revokeLeftoversOfACleanSessionRevokesNothingAndSaysNothing() throws Exception {
        DataLease a = lease(7, 40001);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.revoke(a).get(5, TimeUnit.SECONDS);

        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).isZero();
        assertThat(faults).isEmpty();
        assertThat(log.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.INFO)).isEmpty();
    }

    @Test
    void revokeLeftoversRevokesLeakedLeasesWithAWarningAndCountsThem() throws Exception {
        DataLease a = lease(7, 40001);
        DataLease b = lease(7, 40002);
        DataLease other = lease(8, 40003);
        for (DataLease l : List.of(a, b, other)) {
            executor.apply(l).get(5, TimeUnit.SECONDS);
        }

        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(firewall.calls).contains("revoke " + a, "revoke " + b).doesNotContain("revoke " + other);
        assertThat(faults).containsExactly("LEAKED SESSION_END 2");
        assertThat(logged(Level.WARN)).singleElement().asString().contains("session 7", "2 lease(s)", "leaked");
        assertThat(executor.activeLeases()).isEqualTo(1);
    }

    @Test
    void aFailedSafetyNetRevokeIsAnErrorCountedAndNeverThrown() throws Exception {
        DataLease a = lease(7, 40001);
        DataLease b = lease(7, 40002);
        executor.apply(a).get(5, TimeUnit.SECONDS);
        executor.apply(b).get(5, TimeUnit.SECONDS);
        firewall.failing.add("revoke " + a);

        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(faults).containsExactlyInAnyOrder("LEAKED SESSION_END 1", "REVOKE_FAILED SESSION_END 1");
        assertThat(logged(Level.ERROR)).singleElement().asString().contains("session 7", "refused revoke");
        assertThat(executor.activeLeases()).as("stop() tries again").isEqualTo(1);
        executor.stop();
        assertThat(firewall.calls).endsWith("revoke " + a, "stop");
    }

    @Test
    void revokeLeftoversAfterCloseCompletesQuietly() throws Exception {
        executor.close();
        assertThat(executor.revokeLeftovers(7).get(5, TimeUnit.SECONDS)).isZero();
        assertThat(faults).isEmpty();
    }

    private List<String> logged(Level level) {
        return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static DataLease lease(long session, int port) {
        return new DataLease(session, Direction.INBOUND, InetAddress.getLoopbackAddress(),
                InetAddress.getLoopbackAddress(), port);
    }

    /** Records each call and the thread it ran on; throws for calls listed in {@code failing}. */
    static final class RecordingFirewall implements Firewall {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final Set<String> threads = Collections.synchronizedSet(new HashSet<>());
        final Set<String> failing = Collections.synchronizedSet(new HashSet<>());
        /** Calls that throw exactly this exception (a FirewallException or a RuntimeException). */
        final Map<String, Exception> throwing = new ConcurrentHashMap<>();
        volatile CountDownLatch blockApplyUntil;
        volatile boolean blocked;
        /** Thrown by the next batch (of more than one change), then cleared. */
        volatile Error batchError;

        @Override
        public List<FirewallException> change(List<LeaseChange> changes) {
            calls.add("batch " + changes.size());
            Error e = batchError;
            if (e != null) {
                batchError = null;
                throw e;
            }
            return Firewall.super.change(changes);
        }

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public int start() throws FirewallException {
            record("start");
            return 3;
        }

        @Override
        public void apply(DataLease lease) throws FirewallException {
            CountDownLatch latch = blockApplyUntil;
            if (latch != null) {
                blocked = true;
                try {
                    latch.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            record("apply " + lease);
        }

        @Override
        public void revoke(DataLease lease) throws FirewallException {
            record("revoke " + lease);
        }

        @Override
        public void stop() throws FirewallException {
            record("stop");
        }

        @Override
        public void intercept(Interception spec) throws FirewallException {
            record("intercept " + spec);
        }

        private void record(String call) throws FirewallException {
            calls.add(call);
            threads.add(Thread.currentThread().getName());
            if (failing.contains(call)) {
                throw new FirewallException("refused " + call);
            }
            Exception e = throwing.get(call);
            if (e instanceof FirewallException fe) {
                throw fe;
            } else if (e != null) {
                throw (RuntimeException) e;
            }
        }
    }
}
