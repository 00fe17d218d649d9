package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.iptables.CommandRunner;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code systemd/ftpgate.service} as systemd reads it: {@code systemd-analyze verify} finds nothing
 * to say, and the offline security review ({@code systemd-analyze security --offline=yes}) rates its
 * overall exposure at 2.0 or lower. Neither needs a running systemd.
 */
@Tag("netns")
class SystemdUnitIT {
    static final Path UNIT = Path.of("..", "systemd", "ftpgate.service");
    private static final double MAX_EXPOSURE = 2.0;
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d+)");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final CommandRunner runner = new CommandRunner();

    @Test
    void verifyPrintsNothing(@TempDir Path dir) throws IOException {
        RootTools.requireRootAndTools("systemd-analyze");
        // verify checks that every Exec*= binary exists: point the copy at this JVM and this kill.
        // The unit's own text (options, quoting, specifiers) is verified unchanged.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String kill = List.of("/bin/kill", "/usr/bin/kill").stream().filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst().orElseThrow(() -> new AssertionError("no kill in /bin or /usr/bin"));
        String text = Files.readString(UNIT)
                .replace("/usr/bin/java ", java + " ")
                .replace("/bin/kill ", kill + " ");
        Path copy = dir.resolve("ftpgate.service");
        Files.writeString(copy, text);

        CommandRunner.Result result = runner.run(List.of("systemd-analyze", "verify", copy.toString()), TIMEOUT);

        assertThat(result.exitCode()).as(result.failure()).isZero();
        assertThat(result.stdout() + result.stderr()).isEmpty();
    }

    @Test
    void overallExposureIsAtMostTwo() throws IOException {
        RootTools.requireRootAndTools("systemd-analyze");
        CommandRunner.Result result = runner.run(
                List.of("systemd-analyze", "security", "--offline=yes", "--no-pager", UNIT.toString()), TIMEOUT);

        assertThat(result.exitCode()).as(result.failure()).isZero();
        Matcher m = EXPOSURE.matcher(result.stdout());
        assertThat(m.find()).as("an 'Overall exposure level' line in:%n%s", result.stdout()).isTrue();
        double exposure = Double.parseDouble(m.group(1));
        System.out.println("systemd-analyze security --offline=yes " + UNIT.getFileName() + ": overall exposure " + exposure);
        assertThat(exposure).as(result.stdout()).isLessThanOrEqualTo(MAX_EXPOSURE);
    }
}
