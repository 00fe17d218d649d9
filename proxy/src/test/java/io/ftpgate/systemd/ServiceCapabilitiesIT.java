package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the unit grants is enough, and what it leaves out is not needed: the real jar, run as
 * {@code nobody} holding only the capabilities of {@code systemd/ftpgate.service} (set with
 * {@code setpriv} the way systemd's {@code AmbientCapabilities=} does), in a fresh network namespace,
 * binds port 21, installs its chains with iptables-nft, and removes them on SIGTERM. iptables-legacy
 * needs CAP_NET_RAW and read access to {@code /run/xtables.lock} on top (README.md says so; proven
 * here, each missing piece by its failure). And {@code --cleanup-firewall} (the unit's ExecStopPost)
 * removes what a {@code kill -9}ed daemon left. The nftables backend needs nothing more than
 * iptables-nft.
 */
@Tag("netns")
class ServiceCapabilitiesIT {
    private static final String UNIT_CAPS = "net_admin,net_bind_service";
    private static final int NOBODY = 65534;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final CommandRunner runner = new CommandRunner();
    private final List<Process> processes = new ArrayList<>();
    private String ns;
    @TempDir
    Path dir;
    private Path config;
    private Path log;

    @BeforeEach
    void createNamespace() throws IOException {
        RootTools.requireRootAndTools("ip", "setpriv", "iptables-nft", "ip6tables-nft", "iptables-nft-save",
                "ip6tables-nft-save");
        ns = "fg-sd-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        run(List.of("ip", "netns", "add", ns));
        run(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
        // nobody must read the settings: the temporary directory is root's and 0700.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        log = dir.resolve("ftpgate.log");
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        if (ns != null) {
            runner.run(List.of("ip", "netns", "del", ns), TIMEOUT);
        }
    }

    @Test
    void iptablesNftNeedsOnlyTheUnitsTwoCapabilities() throws Exception {
        writeConfig("nft");
        Process daemon = start(asNobody(UNIT_CAPS, daemon()));
        awaitLog("ftpgate ready");

        for (String binary : List.of("iptables-nft", "ip6tables-nft")) {
            assertThat(list(binary)).contains("-N FTPGATE-IN", "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
        }
        stop(daemon);
        assertThat(Files.readString(log)).contains("ftpgate stopped").doesNotContain("ERROR");
        assertNoFtpgateObjects("nft");
    }

    /** The nftables backend: nft talks netlink only, so the unit's two capabilities are enough. */
    @Test
    void nftablesNeedsOnlyTheUnitsTwoCapabilities() throws Exception {
        RootTools.requireRootAndTools("nft", "sh");
        run(inNamespace(List.of("sh", "-c", "printf '%s' \"$0\" | nft -f -", Topology.NFT_RULESET)));
        String adminRuleset = run(inNamespace(List.of("nft", "list", "ruleset"))).stdout();
        writeSettings("firewall.backend = nftables");
        Process daemon = start(asNobody(UNIT_CAPS, daemon()));
        awaitLog("ftpgate ready");

        assertThat(run(inNamespace(List.of("nft", "list", "ruleset"))).stdout())
                .contains("table inet ftpgate {", "inserted by ftpgate");
        stop(daemon);
        assertThat(Files.readString(log)).contains("ftpgate stopped").doesNotContain("ERROR");
        assertThat(run(inNamespace(List.of("nft", "list", "ruleset"))).stdout()).isEqualTo(adminRuleset);
    }

    @ParameterizedTest(name = "with {0}: {1}")
    @CsvSource(delimiter = ';', value = {
            "net_admin;        cannot listen on 127.0.0.1:21",
            "net_bind_service; cannot set up the firewall",
    })
    void iptablesNftWithoutOneOfThemFails(String caps, String expected) throws Exception {
        writeConfig("nft");
        Process daemon = start(asNobody(caps, daemon()));
        assertThat(daemon.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("exits").isTrue();
        assertThat(daemon.exitValue()).isEqualTo(1);
        assertThat(Files.readString(log)).contains(expected).doesNotContain("ftpgate ready");
        assertNoFtpgateObjects("nft");
    }

    /**
     * iptables-legacy reads the tables through a raw socket (CAP_NET_RAW) and serialises writers
     * with flock on /run/xtables.lock, which it opens O_CREAT, for reading: an existing file that
     * the ftpgate group may read is enough, even on a read-only /run (ProtectSystem=strict). Each
     * case gets a private tmpfs /run holding a lock file of its own.
     */
    @ParameterizedTest(name = "{0}, lock {1}: {2}")
    @CsvSource(delimiter = ';', value = {
            "net_admin,net_bind_service,net_raw; 0640;  ftpgate ready",
            "net_admin,net_bind_service;         0640;  can't initialize iptables table `filter': Permission denied",
            "net_admin,net_bind_service,net_raw; 0600;  can't open lock file /run/xtables.lock: Permission denied",
    })
    void iptablesLegacyAlsoNeedsNetRawAndTheLock(String caps, String lockMode, String expected) throws Exception {
        RootTools.requireRootAndTools("iptables-legacy", "ip6tables-legacy", "iptables-legacy-save",
                "ip6tables-legacy-save", "unshare", "mount");
        writeConfig("legacy");
        String prepareRun = "mount -t tmpfs -o mode=0755 tmpfs /run && touch /run/xtables.lock"
                + " && chgrp " + NOBODY + " /run/xtables.lock && chmod " + lockMode + " /run/xtables.lock"
                + " && mount -o remount,ro /run && exec \"$@\"";
        List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private",
                "sh", "-c", prepareRun, "sh"));
        argv.addAll(asNobody(caps, daemon()));
        Process daemon = start(argv);

        if (expected.equals("ftpgate ready")) {
            awaitLog(expected);
            for (String binary : List.of("iptables-legacy", "ip6tables-legacy")) {
                assertThat(list(binary)).contains("-N FTPGATE-IN", "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
            }
            stop(daemon);
            assertThat(Files.readString(log)).contains("ftpgate stopped").doesNotContain("ERROR");
        } else {
            assertThat(daemon.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("exits").isTrue();
            assertThat(daemon.exitValue()).isEqualTo(1);
            assertThat(Files.readString(log)).contains(expected).doesNotContain("ftpgate ready");
        }
        assertNoFtpgateObjects("legacy");
    }

    @Test
    void cleanupFirewallAsRootRemovesWhatAKilledDaemonLeft() throws Exception {
        writeConfig("nft");
        Process daemon = start(asNobody(UNIT_CAPS, daemon()));
        awaitLog("ftpgate ready");
        daemon.destroyForcibly();
        assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(list("iptables-nft")).as("left by kill -9").contains("-N FTPGATE-IN", "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");

        List<String> cleanup = inNamespace(List.of(java(), "-jar", jar(), "--config", config.toString(), "--cleanup-firewall"));
        CommandRunner.Result result = runner.run(cleanup, TIMEOUT);

        assertThat(result.exitCode()).as(result.failure()).isZero();
        assertThat(result.stdout()).contains("removed the iptables firewall objects of ftpgate");
        assertNoFtpgateObjects("nft");
    }

    // --- helpers ---

    private void writeConfig(String flavour) throws IOException {
        writeSettings("firewall { backend = iptables, iptables = \"iptables-%1$s\", ip6tables = \"ip6tables-%1$s\" }"
                .formatted(flavour));
    }

    private void writeSettings(String firewall) throws IOException {
        config = dir.resolve("ftpgate.conf");
        Files.writeString(config, """
                ftpgate {
                  listeners.test { listen = ["127.0.0.1:21"], upstream = "127.0.0.1:2100" }
                  %s
                  metrics.listen = ""
                }
                """.formatted(firewall));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private List<String> daemon() {
        return List.of(java(), "-Xmx128m", "-XX:-UsePerfData", "-jar", jar(), "--config", config.toString());
    }

    /** As systemd starts the unit: User=nobody, no groups, Capability{BoundingSet,Ambient}=caps. */
    private static List<String> asNobody(String caps, List<String> command) {
        String set = "-all," + String.join(",", List.of(caps.split(",")).stream().map(c -> "+" + c.trim()).toList());
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set));
        argv.addAll(command);
        return argv;
    }

    /** Starts argv in the namespace; ip, unshare, sh and setpriv exec, so the process is the JVM. */
    private Process start(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(inNamespace(argv)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    private void awaitLog(String expected) {
        await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(Files.readString(log)).contains(expected));
    }

    private void stop(Process daemon) throws InterruptedException {
        daemon.destroy(); // SIGTERM
        assertThat(daemon.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
    }

    private List<String> list(String binary) throws IOException {
        return run(inNamespace(List.of(binary, "-w", "5", "-S"))).stdout().lines().toList();
    }

    private void assertNoFtpgateObjects(String flavour) throws IOException {
        for (String save : List.of("iptables-" + flavour + "-save", "ip6tables-" + flavour + "-save")) {
            assertThat(run(inNamespace(List.of(save))).stdout()).as(save).doesNotContainIgnoringCase("FTPGATE");
        }
    }

    private List<String> inNamespace(List<String> argv) {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        all.addAll(argv);
        return all;
    }

    private CommandRunner.Result run(List<String> argv) throws IOException {
        CommandRunner.Result result = runner.run(argv, TIMEOUT);
        assertThat(result.ok()).as("%s: %s", argv, result.failure()).isTrue();
        return result;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String jar() {
        String jar = System.getProperty("ftpgate.jar", "target/ftpgate.jar");
        assertThat(Path.of(jar)).as("the jar (mvn package)").isRegularFile();
        return Path.of(jar).toAbsolutePath().toString();
    }
}
