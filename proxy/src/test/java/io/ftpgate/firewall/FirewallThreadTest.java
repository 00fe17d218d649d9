package io.ftpgate.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.DataLease.Direction;
import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The firewall thread's safety net: no caller waits forever for a change its batch runner dropped. */
class FirewallThreadTest {

    private static final DataLease LEASE = new DataLease(7, Direction.INBOUND, InetAddress.getLoopbackAddress(),
            InetAddress.getLoopbackAddress(), 40001);

    @Test
    void aChangeTheBatchRunnerForgotFailsAsAnInternalError() {
        FirewallThread thread = new FirewallThread("test-firewall", 8, batch -> { });
        try {
            CompletableFuture<Void> done = thread.submit(LeaseChange.apply(LEASE));
            assertThatThrownBy(() -> done.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(FirewallException.class)
                    .hasMessageContaining("not made (internal error)");
        } finally {
            thread.close();
        }
    }

    @Test
    void aBatchRunnerThatThrowsFailsItsChangesAndTheThreadGoesOn() throws Exception {
        boolean[] fail = {true};
        FirewallThread thread = new FirewallThread("test-firewall", 8, batch -> {
            if (fail[0]) {
                fail[0] = false;
                throw new IllegalStateException("bug");
            }
            batch.forEach(p -> p.done().complete(null));
        });
        try {
            CompletableFuture<Void> first = thread.submit(LeaseChange.apply(LEASE));
            assertThatThrownBy(() -> first.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(FirewallException.class);
            CompletableFuture<Void> second = thread.submit(LeaseChange.revoke(LEASE));
            second.get(5, TimeUnit.SECONDS);
            assertThat(second).isCompletedWithValue(null);
        } finally {
            thread.close();
        }
    }

    @Test
    void aChangeItsBatchCompletedKeepsItsOutcome() throws Exception {
        FirewallException refused = new FirewallException("refused by the firewall");
        FirewallThread thread = new FirewallThread("test-firewall", 8,
                batch -> batch.forEach(p -> p.done().completeExceptionally(refused)));
        try {
            CompletableFuture<Void> done = thread.submit(LeaseChange.apply(LEASE));
            assertThatThrownBy(() -> done.get(5, TimeUnit.SECONDS)).cause().isSameAs(refused);
        } finally {
            thread.close();
        }
    }
}
