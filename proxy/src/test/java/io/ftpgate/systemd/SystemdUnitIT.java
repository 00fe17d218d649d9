package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code systemd/ftpgate.service} as systemd reads it, alone and with each drop-in
 * ({@code systemd/iptables-legacy.conf}, {@code systemd/ipset.conf}): {@code systemd-analyze verify} finds nothing to say, and the
 * offline security review ({@code systemd-analyze security --offline=yes}) rates its overall
 * exposure at 2.0 or lower. Neither needs a running systemd: both read the unit file given, and the
 * drop-ins of the {@code ftpgate.service.d} directory next to it.
 */
@Tag("netns")
class SystemdUnitIT {
    private static final Path SYSTEMD = Path.of("..", "systemd");
    private static final double MAX_EXPOSURE = 2.0;
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d+)");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** The unit alone, without a drop-in. */
    private static final String NONE = "none";

    private final CommandRunner runner = new CommandRunner();

    @ParameterizedTest(name = "drop-in: {0}")
    @ValueSource(strings = {NONE, "iptables-legacy.conf", "ipset.conf"})
    void verifyPrintsNothing(String dropIn, @TempDir Path dir) throws IOException {
        RootTools.requireRootAndTools("systemd-analyze");
        Path unit = install(dir, dropIn);

        CommandRunner.Result result = runner.run(List.of("systemd-analyze", "verify", unit.toString()), TIMEOUT);

        assertThat(result.exitCode()).as(result.failure()).isZero();
        assertThat(result.stdout() + result.stderr()).isEmpty();
    }

    @ParameterizedTest(name = "drop-in: {0}")
    @ValueSource(strings = {NONE, "iptables-legacy.conf", "ipset.conf"})
    void overallExposureIsAtMostTwo(String dropIn, @TempDir Path dir) throws IOException {
        RootTools.requireRootAndTools("systemd-analyze");
        Path unit = install(dir, dropIn);

        CommandRunner.Result result = runner.run(
                List.of("systemd-analyze", "security", "--offline=yes", "--no-pager", unit.toString()), TIMEOUT);

        assertThat(result.exitCode()).as(result.failure()).isZero();
        Matcher m = EXPOSURE.matcher(result.stdout());
        assertThat(m.find()).as("an 'Overall exposure level' line in:%n%s", result.stdout()).isTrue();
        double exposure = Double.parseDouble(m.group(1));
        System.out.printf("systemd-analyze security --offline=yes ftpgate.service%s: overall exposure %s%n",
                dropIn.equals(NONE) ? "" : " + " + dropIn, exposure);
        assertThat(exposure).as(result.stdout()).isLessThanOrEqualTo(MAX_EXPOSURE);
    }

    /**
     * A copy of the unit (and the drop-in) in dir. verify checks that every Exec*= binary exists:
     * the copy points at this JVM and this kill; the rest of its text is the unit's, unchanged.
     */
    private static Path install(Path dir, String dropIn) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String kill = List.of("/bin/kill", "/usr/bin/kill").stream().filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst().orElseThrow(() -> new AssertionError("no kill in /bin or /usr/bin"));
        String text = Files.readString(SYSTEMD.resolve("ftpgate.service"))
                .replace("/usr/bin/java ", java + " ")
                .replace("/bin/kill ", kill + " ");
        Path unit = dir.resolve("ftpgate.service");
        Files.writeString(unit, text);
        if (!dropIn.equals(NONE)) {
            Path dropIns = Files.createDirectory(dir.resolve("ftpgate.service.d"));
            Files.copy(SYSTEMD.resolve(dropIn), dropIns.resolve(dropIn));
        }
        return unit;
    }
}
