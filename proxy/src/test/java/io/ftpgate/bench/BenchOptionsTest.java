package io.ftpgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's command line: each option sets its own figure and leaves the mode's others as they are. */
class BenchOptionsTest {

    @Test
    void withoutArgumentsItIsFullMode() {
        BenchOptions o = BenchOptions.parse();
        assertThat(o).isEqualTo(BenchOptions.full(Path.of("target", "bench", "results.md")));
    }

    @Test
    void eachOptionSetsItsOwnFigure() {
        BenchOptions o = BenchOptions.parse("--short", "--rounds", "7", "--idle", "300", "--seconds", "2", "--out", "x.md",
                "--transfers", "--ftps", "--ftps-mib", "4", "--nft", "--sessions", "--setups", "direct, ftpgate-ipset",
                "--jit-warm", "0", "--sched");
        BenchOptions shortMode = BenchOptions.shortRun(Path.of("x.md"));
        assertThat(o).isEqualTo(new BenchOptions("short", 7, shortMode.retrBytes(), shortMode.storBytes(), 2,
                shortMode.concurrency(), 300, shortMode.warmUp(), shortMode.liveLeases(), shortMode.leaseOps(),
                Path.of("x.md"), true, 4L * 1024 * 1024, true, true, true,
                List.of(BenchSetup.Kind.DIRECT, BenchSetup.Kind.FTPGATE_IPSET), 0, true));
    }

    @Test
    void anOptionLeavesTheOthersAsTheModeHasThem() {
        BenchOptions full = BenchOptions.full(Path.of("target", "bench", "results.md"));
        BenchOptions o = BenchOptions.parse("--rounds", "9");
        assertThat(o.rounds()).isEqualTo(9);
        assertThat(o).usingRecursiveComparison().ignoringFields("rounds").isEqualTo(full);
        assertThat(BenchOptions.parse("--sched").sched()).isTrue();
        assertThat(BenchOptions.parse().sched()).isFalse();
    }

    @Test
    void badCommandLinesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> BenchOptions.parse("--rounds", "2", "--short"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--short must come first");
        assertThatThrownBy(() -> BenchOptions.parse("--rounds", "0"))
                .hasMessageContaining("--rounds must be at least 1, not 0");
        assertThatThrownBy(() -> BenchOptions.parse("--idle")).hasMessageContaining("--idle needs a value");
        assertThatThrownBy(() -> BenchOptions.parse("--setups", "nowhere")).hasMessageContaining("--setups: no setup nowhere");
        assertThatThrownBy(() -> BenchOptions.parse("--fast")).hasMessageContaining("unknown argument --fast");
    }
}
