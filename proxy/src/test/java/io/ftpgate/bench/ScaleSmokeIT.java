package io.ftpgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.ftpgate.testing.RootTools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The scale run ({@code Benchmark --scale}) small: 300 idle sessions, then 40 downloads of 2 MiB
 * running at once. The report must give the memory rows, and every download must have started
 * before any was read (all alive at once, both legs of each established in ftpgate's namespace)
 * and ended with exactly its size and a {@code 226}. How much memory does not matter here.
 */
@Tag("netns")
@Timeout(300)
class ScaleSmokeIT {

    @Test
    void idleSessionsAndConcurrentTransfersAreMeasuredAndAllTransfersComplete() throws Exception {
        RootTools.requireRootAndTools("ip", "iptables", "ss", "jcmd");
        Path out = Path.of("target", "bench", "scale-smoke.md");
        String report = ScaleRun.run(ScaleRun.Options.parse(List.of("--scale", "--short", "--idle", "300", "--active", "40",
                "--out", out.toString())));

        assertThat(Files.readString(out)).isEqualTo(report);
        assertThat(report).containsPattern("\\| 300 \\| \\d+\\.\\d \\| \\d+\\.\\d \\|")
                .containsPattern("per idle session: -?\\d+ bytes RSS, -?\\d+ bytes heap")
                .containsPattern("\\| 40 × 2 MiB \\| 40 \\| (\\d+) \\|")
                .contains("DONE ok=40 bytes=" + 40L * 2 * 1024 * 1024 + " wrong=0 first=-")
                .contains("data relay splice");
        int established = Integer.parseInt(report.replaceAll("(?s).*\\| 40 × 2 MiB \\| 40 \\| (\\d+) \\|.*", "$1"));
        assertThat(established).as("control and data connections, both legs, of 40 running transfers").isGreaterThanOrEqualTo(160);
    }
}
