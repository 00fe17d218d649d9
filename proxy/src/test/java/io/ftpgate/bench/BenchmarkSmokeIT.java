package io.ftpgate.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import io.ftpgate.testing.RootTools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark's short mode, one round, a few idle sessions: it must produce its tables, one row
 * per setup with a number in every cell (or, for the conntrack helper only, a dash and the reason
 * it could not be used). How fast anything is does not matter here.
 */
@Tag("netns")
@Timeout(180)
class BenchmarkSmokeIT {

    private static final String NUMBER = "\\d+(\\.\\d+)?";

    @Test
    void shortRunWritesATableWithARowPerSetup() throws Exception {
        RootTools.requireRootAndTools("ip", "iptables", "vsftpd", "curl", "ss", "jcmd", "fallocate");
        Path out = Path.of("target", "bench", "smoke-results.md");
        String report = Benchmark.run(BenchOptions.parse("--short", "--rounds", "1", "--idle", "100", "--out", out.toString()));

        assertThat(Files.readString(out)).isEqualTo(report);
        for (BenchSetup.Kind kind : BenchSetup.Kind.values()) {
            List<String> rows = report.lines().filter(l -> l.startsWith("| " + kind.label + " |")).toList();
            assertThat(rows).as("rows of %s (medians, ratios) in\n%s", kind.label, report).hasSize(2);
            boolean excused = kind == BenchSetup.Kind.CONNTRACK_HELPER && report.contains("`" + kind.label + "` not measured: ");
            for (String row : rows) {
                List<String> cells = Arrays.stream(row.split("\\|")).map(String::strip).skip(2).toList();
                assertThat(cells).as("cells of %s", row).hasSize(Figure.values().length)
                        .allSatisfy(cell -> assertThat(cell.matches(NUMBER) || excused && cell.equals("—"))
                                .as("cell '%s' of %s in\n%s", cell, row, report).isTrue());
            }
        }
        assertThat(report).as("idle-session memory row").containsPattern("\\| 100 \\| " + NUMBER + " \\| " + NUMBER + " \\|");
    }
}
