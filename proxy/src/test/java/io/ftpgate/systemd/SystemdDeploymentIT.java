package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static io.ftpgate.systemd.ExampleSite.UPSTREAM_FILE;
import static io.ftpgate.systemd.ExampleSite.UPSTREAM_TEXT;
import static io.ftpgate.systemd.ExampleSite.ok;
import static io.ftpgate.systemd.ExampleSite.url;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.config.SettingsLoader;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.net.Inet6Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * README.md's "Install as a systemd service", run as written under a real systemd: a machine booted
 * by {@code systemd-nspawn} ({@link NspawnMachine}) gets the release as a user has it (the jar at
 * {@code proxy/target/ftpgate.jar}, {@code systemd/}, {@code config/}), the addresses of
 * {@code config/ftpgate.conf} on its {@code lo} and a vsftpd at that file's upstream address; then
 * the commands of the README's fenced block run there, in order, unchanged (all but the build, which
 * Maven has done: the jar is {@code -Dftpgate.jar}). The example settings file is used as it is.
 * Then what the README says about running it: {@code systemctl reload}, {@code stop}, a crash, a
 * configuration error, the iptables-legacy drop-in. On failure the unit's status and journal are attached.
 */
@Tag("netns")
class SystemdDeploymentIT {
    private static final Path REPO = Path.of("..");
    private static final String README_SECTION = "## Install as a systemd service (other distributions)";
    private static final String RELEASE = "/root/ftpgate";
    private static final Duration SETTLE = ExampleSite.SETTLE;

    private NspawnMachine machine;
    private Settings example;
    private ExampleSite site;

    @RegisterExtension
    final JournalOnFailure journalOnFailure = new JournalOnFailure(() -> machine);

    @BeforeEach
    void installAsTheReadmeSays() throws Exception {
        RootTools.requireRootAndTools("systemd-nspawn", "nsenter", "mount", "umount", "ip", "iptables", "ip6tables",
                "iptables-save", "ip6tables-save", "vsftpd", "curl", "systemctl", "journalctl", "systemd-sysusers",
                "systemd-run");
        example = SettingsLoader.load(Optional.of(REPO.resolve("config/ftpgate.conf")), ConfigFactory.empty());
        String id = ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        machine = NspawnMachine.boot("ftpgate-" + id, Path.of("target", "nspawn", id));
        site = new ExampleSite(machine, example);

        site.giveTheExampleAddressesToLo();
        site.startUpstream();
        stageRelease();
        String block = readmeInstallBlock();
        ok(machine.exec("sh", "-e", "-x", "-c", "cd " + RELEASE + "\n" + block));
    }

    @AfterEach
    void powerOff() {
        if (machine != null) {
            machine.close();
        }
    }

    @Test
    void enableNowServesFtpThenReloadAndStopAreClean() {
        // Type=notify: enable --now returned after READY=1, when the listeners were bound.
        assertThat(site.property("ActiveState")).isEqualTo("active");
        // User=ftpgate with exactly CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and, from the ipset drop-in the
        // README installs for the example's backend, CAP_NET_RAW (bits 12, 10, 13); no way to more.
        String status = ok(machine.exec("cat", "/proc/" + site.property("MainPID") + "/status")).stdout();
        String uid = ok(machine.exec("id", "-u", "ftpgate")).stdout().strip();
        assertThat(status.lines()).contains("Uid:\t" + String.join("\t", uid, uid, uid, uid),
                "CapEff:\t0000000000003400", "CapBnd:\t0000000000003400", "NoNewPrivs:\t1");
        for (String iptables : List.of("iptables", "ip6tables")) {
            assertThat(ok(machine.exec(iptables, "-w", "5", "-S")).stdout()).as(iptables)
                    .contains("-N FTPGATE-IN", "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
        }
        for (Endpoint listen : site.listenEndpoints()) {
            assertThat(site.curl(url(listen, UPSTREAM_FILE))).as("EPSV through %s", listen).isEqualTo(UPSTREAM_TEXT);
        }
        Endpoint first = site.listenEndpoints().get(0);
        assertThat(site.curl("-P", "-", url(first, UPSTREAM_FILE))).as("EPRT").isEqualTo(UPSTREAM_TEXT);
        assertThat(site.curl(url(first, ""))).as("LIST").contains(UPSTREAM_FILE);
        assertThat(site.journal()).contains("download RETR \"" + UPSTREAM_FILE + "\"");
        example.metrics().listen().ifPresent(metrics -> assertThat(site.curl("http://" + metrics + example.metrics().path()))
                .contains("ftpgate_sessions_total{listener=\"" + example.listeners().get(0).name() + "\"}"));

        String pid = site.property("MainPID");
        ok(machine.exec("systemctl", "reload", "ftpgate"));
        // ExecReload only sends SIGHUP: the unit is "reloading" until ftpgate has read the file.
        await("reload done").atMost(SETTLE).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(site.property("ActiveState")).isEqualTo("active");
            assertThat(site.journal()).contains("configuration reloaded");
        });
        assertThat(site.property("MainPID")).as("same process").isEqualTo(pid);
        assertThat(site.curl(url(first, UPSTREAM_FILE))).as("after reload").isEqualTo(UPSTREAM_TEXT);

        ok(machine.exec("systemctl", "stop", "ftpgate"));
        assertThat(site.properties("ActiveState", "Result")).containsEntry("ActiveState", "inactive")
                .containsEntry("Result", "success");
        assertThat(site.journal()).contains("ftpgate stopped", "removed the ipset firewall objects of ftpgate");
        site.assertNoFtpgateFirewallObjects();
    }

    @Test
    void aKilledDaemonIsCleanedUpAfterAndRestarted() {
        String pid = site.property("MainPID");
        ok(machine.exec("systemctl", "kill", "--signal=SIGKILL", "ftpgate"));

        // Restart=on-failure after RestartSec; ExecStopPost (the firewall cleanup) ran in between.
        await("restarted").atMost(SETTLE).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(site.properties("ActiveState", "NRestarts", "MainPID")).containsEntry("ActiveState", "active")
                        .containsEntry("NRestarts", "1").doesNotContainEntry("MainPID", pid));
        String journal = site.journal();
        assertThat(journal).contains("status=9/KILL");
        assertThat(journal.substring(journal.indexOf("status=9/KILL")))
                .contains("removed the ipset firewall objects of ftpgate", "ftpgate ready");
        assertThat(site.curl(url(site.listenEndpoints().get(0), UPSTREAM_FILE))).isEqualTo(UPSTREAM_TEXT);
    }

    /**
     * The file is broken while the daemon runs, then the admin restarts: the stop's cleanup
     * (ExecStopPost reads the file too) still removes the chains, with the built-in defaults.
     */
    @Test
    void aConfigurationErrorFailsTheUnitWithoutRestarting() throws IOException {
        // A misspelt key, as an admin adapting the file might write it.
        Files.writeString(machine.root().resolve("etc/ftpgate/ftpgate.conf"), "ftpgate.control.max-sesions = 10\n",
                StandardOpenOption.APPEND);

        CommandRunner.Result start = machine.exec("systemctl", "restart", "ftpgate");

        assertThat(start.exitCode()).as("systemctl restart fails").isNotZero();
        assertThat(site.journal()).contains("ftpgate stopped",
                "removing the firewall objects named by the built-in defaults instead");
        // RestartPreventExitStatus=78: "failed", not "auto-restart" waiting for RestartSec.
        assertThat(site.properties("ActiveState", "SubState", "ExecMainStatus", "NRestarts"))
                .containsEntry("ActiveState", "failed").containsEntry("SubState", "failed")
                .containsEntry("ExecMainStatus", "78").containsEntry("NRestarts", "0");
        assertThat(site.journal()).contains("configuration error: /etc/ftpgate/ftpgate.conf", "max-sesions");
        site.assertNoFtpgateFirewallObjects();
    }

    /**
     * On a gateway whose iptables is iptables-legacy, the unit alone cannot start (no CAP_NET_RAW, no
     * access to the lock); with the drop-in installed as its own comment says, it can.
     */
    @Test
    void theIptablesLegacyDropInMakesItWorkWithIptablesLegacy() {
        RootTools.requireRootAndTools("iptables-legacy", "ip6tables-legacy", "update-alternatives");
        ok(machine.exec("systemctl", "stop", "ftpgate"));
        for (String binary : List.of("iptables", "ip6tables")) {
            ok(machine.exec("update-alternatives", "--set", binary, "/usr/sbin/" + binary + "-legacy"));
        }
        assertThat(machine.exec("systemctl", "start", "ftpgate").exitCode()).as("start without the drop-in").isNotZero();
        assertThat(site.journal()).contains("can't open lock file /run/xtables.lock: Permission denied");

        ok(machine.exec("sh", "-e", "-x", "-c", "cd " + RELEASE + "\n"
                + "install -D -m 0644 systemd/iptables-legacy.conf /etc/systemd/system/ftpgate.service.d/iptables-legacy.conf\n"
                + "systemctl daemon-reload && systemctl restart ftpgate\n"));

        assertThat(site.property("ActiveState")).isEqualTo("active");
        for (String iptables : List.of("iptables-legacy", "ip6tables-legacy")) {
            assertThat(ok(machine.exec(iptables, "-w", "5", "-S")).stdout()).as(iptables)
                    .contains("-N FTPGATE-IN", "-A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN");
        }
        assertThat(site.curl(url(site.listenEndpoints().get(0), UPSTREAM_FILE))).isEqualTo(UPSTREAM_TEXT);
        ok(machine.exec("systemctl", "stop", "ftpgate"));
        assertThat(site.property("Result")).isEqualTo("success");
        site.assertNoFtpgateFirewallObjects();
    }

    // --- the release, as a user has it ---

    /** What a user has after building: the jar where the README expects it, the unit and the settings. */
    private void stageRelease() throws IOException {
        Path release = machine.root().resolve(RELEASE.substring(1));
        Path target = Files.createDirectories(release.resolve("proxy/target"));
        Files.copy(jar(), target.resolve("ftpgate.jar"));
        for (String dir : List.of("systemd", "config")) {
            Files.createDirectories(release.resolve(dir));
            try (Stream<Path> files = Files.list(REPO.resolve(dir))) {
                for (Path f : files.toList()) {
                    Files.copy(f, release.resolve(dir).resolve(f.getFileName()));
                }
            }
        }
    }

    /** The first {@code sh} block after the README's heading, without the build (Maven did it). */
    private static String readmeInstallBlock() throws IOException {
        List<String> block = ExampleSite.readmeBlock(README_SECTION);
        assertThat(block).as("the install block").anyMatch(l -> l.contains("systemctl enable --now ftpgate"));
        return String.join("\n", block) + "\n";
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("ftpgate.jar", "target/ftpgate.jar"));
        assertThat(jar).as("the jar (mvn package)").isRegularFile();
        return jar;
    }

    /** Attaches the unit's state and journal (and the upstream's) to whatever failed. */
    static final class JournalOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
        private final Supplier<NspawnMachine> machine;

        JournalOnFailure(Supplier<NspawnMachine> machine) {
            this.machine = machine;
        }

        @Override
        public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
            throw withJournal(failure);
        }

        @Override
        public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable failure)
                throws Throwable {
            throw withJournal(failure);
        }

        private Throwable withJournal(Throwable failure) {
            NspawnMachine m = machine.get();
            if (m == null) {
                return failure;
            }
            try {
                String status = m.exec("systemctl", "status", "--no-pager", "--full", "ftpgate").stdout();
                String journal = m.exec("journalctl", "--no-pager", "--boot", "--unit=ftpgate", "--unit=ftp-upstream")
                        .stdout();
                failure.addSuppressed(new AssertionError("in the machine:\n" + status + "\n" + journal));
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            return failure;
        }
    }
}
