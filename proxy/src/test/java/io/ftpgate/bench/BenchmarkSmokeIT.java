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
 * it could not be used; {@code tcp-relay} has session figures only), the relay process's CPU and
 * run-queue wait per session for ftpgate and HAProxy, and the FTPS table with a row per FTPS setup (4 MiB each way): speeds
 * everywhere, ftpgate's CPU per GiB for the ftpgate rows only; the lease rates of every backend
 * (the kernel path on nftables maps too), RETR with live leases for every ftpgate setup but
 * {@code ftpgate-copy}, and the goals, each with a figure. A setup whose check transfer came
 * back with the wrong SHA-256 is not measured and fails this. How fast anything is does not matter here.
 */
@Tag("netns")
@Timeout(420)
class BenchmarkSmokeIT {

    private static final String NUMBER = "\\d+(\\.\\d+)?";

    @Test
    void shortRunWritesATableWithARowPerSetup() throws Exception {
        RootTools.requireRootAndTools("ip", "iptables", "vsftpd", "curl", "ss", "jcmd", "fallocate");
        Path out = Path.of("target", "bench", "smoke-results.md");
        String report = Benchmark.run(BenchOptions.parse("--short", "--rounds", "1", "--idle", "100", "--ftps-mib", "4",
                "--out", out.toString()));

        assertThat(Files.readString(out)).isEqualTo(report);
        // The plain-FTP tables (medians, ratios) end where the memory figures begin; RETR with live leases has rows per setup too.
        String plain = report.substring(0, report.indexOf("\nftpgate memory"));
        for (BenchSetup.Kind kind : BenchSetup.Kind.values()) {
            List<String> rows = plain.lines().filter(l -> l.startsWith("| " + kind.label + " |")).toList();
            assertThat(rows).as("rows of %s (medians, ratios) in\n%s", kind.label, report).hasSize(2);
            boolean excused = kind == BenchSetup.Kind.CONNTRACK_HELPER && report.contains("`" + kind.label + "` not measured: ");
            for (int r = 0; r < rows.size(); r++) {
                String row = rows.get(r);
                List<String> cells = Arrays.stream(row.split("\\|")).map(String::strip).skip(2).toList();
                assertThat(cells).as("cells of %s", row).hasSize(Figure.values().length);
                for (Figure figure : Figure.values()) {
                    String cell = cells.get(figure.ordinal());
                    boolean perGiB = figure == Figure.RETR_CPU || figure == Figure.STOR_CPU;
                    boolean perSession = figure == Figure.SESSION_CPU || figure == Figure.SESSION_RUN_QUEUE;
                    boolean transfer = figure.ordinal() < Figure.SESSIONS_SEQUENTIAL.ordinal();
                    // The relay process's figures (ftpgate's CPU per GiB; ftpgate's or HAProxy's CPU and run-queue
                    // wait per session) are medians where there is one, with no ratio (direct has none); tcp-relay
                    // measures no transfer; the conntrack helper may be excused.
                    boolean number = perGiB ? r == 0 && kind.isFtpgate()
                            : perSession ? r == 0 && (kind.isFtpgate() || kind == BenchSetup.Kind.TCP_RELAY)
                            : !(transfer && kind.sessionsOnly()) && !excused;
                    boolean dash = !number && (perGiB || perSession || transfer && kind.sessionsOnly());
                    assertThat(number ? cell.matches(NUMBER) : dash ? cell.equals("—") : cell.equals("—") || cell.matches(NUMBER))
                            .as("%s cell '%s' of %s in\n%s", figure.label, cell, row, report).isTrue();
                }
            }
        }
        for (FtpsSetup.Kind kind : FtpsSetup.Kind.values()) {
            List<String> rows = report.lines().filter(l -> l.startsWith("| " + kind.label + " |")).toList();
            assertThat(rows).as("FTPS rows of %s (medians, ratios) in\n%s", kind.label, report).hasSize(2);
            for (int r = 0; r < rows.size(); r++) {
                List<String> cells = Arrays.stream(rows.get(r).split("\\|")).map(String::strip).skip(2).toList();
                boolean cpu = r == 0 && kind != FtpsSetup.Kind.DIRECT;
                assertThat(cells).as("cells of %s in\n%s", rows.get(r), report).hasSize(FtpsTransfers.Column.values().length)
                        .satisfies(c -> assertThat(c.subList(0, 2)).allMatch(cell -> cell.matches(NUMBER)))
                        .satisfies(c -> assertThat(c.subList(2, 4)).allMatch(cell -> cpu ? cell.matches(NUMBER) : cell.equals("—")));
            }
        }
        assertThat(report).as("idle-session memory row").containsPattern("\\| 100 \\| " + NUMBER + " \\| " + NUMBER + " \\|");
        for (String backend : List.of("iptables", "ipset", "nftables", "nftables-kernel")) {
            assertThat(report).as("lease rows of %s", backend)
                    .containsPattern("\\| " + backend + " \\| 1000 \\|( " + NUMBER + " \\|){5} (" + NUMBER + "|—) \\|");
        }
        for (BenchSetup.Kind kind : BenchOptions.nftSetups()) {
            if (kind.isFtpgate()) {
                assertThat(report).as("RETR with live leases of %s", kind.label).containsPattern("\\| " + kind.label + " \\| "
                        + kind.backend() + "[^|]* \\| 1000 \\|( " + NUMBER + " \\|){3}");
            }
        }
        assertThat(report).as("the goals").containsPattern("\\| RETR PASV ≥ 0.95× `direct` \\| ftpgate-kernel-nft \\| "
                + NUMBER + "× \\| (yes|\\*\\*no\\*\\*) \\|");
    }
}
