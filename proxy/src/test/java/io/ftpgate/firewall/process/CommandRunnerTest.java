package io.ftpgate.firewall.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.process.CommandRunner.Result;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Uses only coreutils-level programs present on every Linux build host. */
class CommandRunnerTest {

    private final CommandRunner runner = new CommandRunner();

    @Test
    void capturesExitCodeAndBothStreams() throws Exception {
        Result result = runner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));
        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).isEqualTo("err\n");
        assertThat(result.ok()).isFalse();
        assertThat(result.failure()).isEqualTo("exit 3: err");
    }

    @Test
    void aFailureWithoutStderrIsExplainedByStdout() throws Exception {
        Result result = runner.run(List.of("sh", "-c", "echo '# Table is odd'; echo x; echo y; echo z; exit 3"),
                Duration.ofSeconds(10));
        assertThat(result.failure()).isEqualTo("exit 3: # Table is odd x y");
    }

    @Test
    void argumentsAreNotInterpretedByAShell() throws Exception {
        Result result = runner.run(List.of("echo", "a b", "$HOME", ";", "ls"), Duration.ofSeconds(10));
        assertThat(result.ok()).isTrue();
        assertThat(result.stdout()).isEqualTo("a b $HOME ; ls\n");
    }

    @Test
    void largeOutputOnBothStreamsDoesNotDeadlock() throws Exception {
        // 4 MiB on each stream: far beyond a 64 KiB pipe buffer.
        Result result = runner.run(List.of("sh", "-c",
                "head -c 4194304 /dev/zero | tr '\\0' o; head -c 4194304 /dev/zero | tr '\\0' e >&2"),
                Duration.ofSeconds(30));
        assertThat(result.ok()).isTrue();
        assertThat(result.stdout()).hasSize(4 * 1024 * 1024);
        assertThat(result.stderr()).hasSize(4 * 1024 * 1024);
    }

    @Test
    void aCommandPastItsTimeoutIsKilledAndFails() throws Exception {
        long started = System.nanoTime();
        Result result = runner.run(List.of("sleep", "30"), Duration.ofMillis(300));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertThat(result.timedOut()).isTrue();
        assertThat(result.ok()).isFalse();
        assertThat(result.exitCode()).isEqualTo(Result.KILLED);
        assertThat(result.failure()).startsWith("timed out after").contains("killed");
    }

    @Test
    void aMissingProgramCannotBeStarted() {
        assertThatThrownBy(() -> runner.run(List.of("/nonexistent/ftpgate-no-such-program"), Duration.ofSeconds(5)))
                .isInstanceOf(IOException.class);
    }
}
