package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;
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
    private static final String README_SECTION = "## Install as a systemd service";
    private static final String RELEASE = "/root/ftpgate";
    private static final String UPSTREAM_FILE = "hello.txt";
    private static final String UPSTREAM_TEXT = "served by vsftpd behind ftpgate under systemd\n";
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private NspawnMachine machine;
    private Settings example;

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

        giveTheExampleAddressesToLo();
        startUpstream();
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
        assertThat(property("ActiveState")).isEqualTo("active");
        // User=ftpgate with exactly CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and, from the ipset drop-in the
        // README installs for the example's backend, CAP_NET_RAW (bits 12, 10, 13); no way to more.
        String status = ok(machine.exec("cat", "/proc/" + property("MainPID") + "/status")).stdout();
        String uid = ok(machine.exec("id", "-u", "ftpgate")).stdout().strip();
        assertThat(status.lines()).contains("Uid:\t" + String.join("\t", uid, uid, uid, uid),
                "CapEff:\t0000000000003400", "CapBnd:\t0000000000003400", "NoNewPrivs:\t1");
        for (String iptables : List.of("iptables", "ip6tables")) {
            assertThat(ok(machine.exec(iptables, "-w", "5", "-S")).stdout()).as(iptables)
                    .contains("-N FTPGATE-IN", "-A INPUT -j FTPGATE-IN");
        }
        for (Endpoint listen : listenEndpoints()) {
            assertThat(curl(url(listen, UPSTREAM_FILE))).as("EPSV through %s", listen).isEqualTo(UPSTREAM_TEXT);
        }
        Endpoint first = listenEndpoints().get(0);
        assertThat(curl("-P", "-", url(first, UPSTREAM_FILE))).as("EPRT").isEqualTo(UPSTREAM_TEXT);
        assertThat(curl(url(first, ""))).as("LIST").contains(UPSTREAM_FILE);
        assertThat(journal()).contains("download RETR \"" + UPSTREAM_FILE + "\"");
        example.metrics().listen().ifPresent(metrics -> assertThat(curl("http://" + metrics + example.metrics().path()))
                .contains("ftpgate_sessions_total{listener=\"" + example.listeners().get(0).name() + "\"}"));

        String pid = property("MainPID");
        ok(machine.exec("systemctl", "reload", "ftpgate"));
        // ExecReload only sends SIGHUP: the unit is "reloading" until ftpgate has read the file.
        await("reload done").atMost(SETTLE).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(property("ActiveState")).isEqualTo("active");
            assertThat(journal()).contains("configuration reloaded");
        });
        assertThat(property("MainPID")).as("same process").isEqualTo(pid);
        assertThat(curl(url(first, UPSTREAM_FILE))).as("after reload").isEqualTo(UPSTREAM_TEXT);

        ok(machine.exec("systemctl", "stop", "ftpgate"));
        assertThat(properties("ActiveState", "Result")).containsEntry("ActiveState", "inactive")
                .containsEntry("Result", "success");
        assertThat(journal()).contains("ftpgate stopped", "removed the ipset firewall objects of ftpgate");
        assertNoFtpgateFirewallObjects();
    }

    @Test
    void aKilledDaemonIsCleanedUpAfterAndRestarted() {
        String pid = property("MainPID");
        ok(machine.exec("systemctl", "kill", "--signal=SIGKILL", "ftpgate"));

        // Restart=on-failure after RestartSec; ExecStopPost (the firewall cleanup) ran in between.
        await("restarted").atMost(SETTLE).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(properties("ActiveState", "NRestarts", "MainPID")).containsEntry("ActiveState", "active")
                        .containsEntry("NRestarts", "1").doesNotContainEntry("MainPID", pid));
        String journal = journal();
        assertThat(journal).contains("status=9/KILL");
        assertThat(journal.substring(journal.indexOf("status=9/KILL")))
                .contains("removed the ipset firewall objects of ftpgate", "ftpgate ready");
        assertThat(curl(url(listenEndpoints().get(0), UPSTREAM_FILE))).isEqualTo(UPSTREAM_TEXT);
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
        assertThat(journal()).contains("ftpgate stopped",
                "removing the firewall objects named by the built-in defaults instead");
        // RestartPreventExitStatus=78: "failed", not "auto-restart" waiting for RestartSec.
        assertThat(properties("ActiveState", "SubState", "ExecMainStatus", "NRestarts"))
                .containsEntry("ActiveState", "failed").containsEntry("SubState", "failed")
                .containsEntry("ExecMainStatus", "78").containsEntry("NRestarts", "0");
        assertThat(journal()).contains("configuration error: /etc/ftpgate/ftpgate.conf", "max-sesions");
        assertNoFtpgateFirewallObjects();
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
        assertThat(journal()).contains("can't open lock file /run/xtables.lock: Permission denied");

        ok(machine.exec("sh", "-e", "-x", "-c", "cd " + RELEASE + "\n"
                + "install -D -m 0644 systemd/iptables-legacy.conf /etc/systemd/system/ftpgate.service.d/iptables-legacy.conf\n"
                + "systemctl daemon-reload && systemctl restart ftpgate\n"));

        assertThat(property("ActiveState")).isEqualTo("active");
        for (String iptables : List.of("iptables-legacy", "ip6tables-legacy")) {
            assertThat(ok(machine.exec(iptables, "-w", "5", "-S")).stdout()).as(iptables)
                    .contains("-N FTPGATE-IN", "-A INPUT -j FTPGATE-IN");
        }
        assertThat(curl(url(listenEndpoints().get(0), UPSTREAM_FILE))).isEqualTo(UPSTREAM_TEXT);
        ok(machine.exec("systemctl", "stop", "ftpgate"));
        assertThat(property("Result")).isEqualTo("success");
        assertNoFtpgateFirewallObjects();
    }

    // --- the machine, set up as the example settings file expects ---

    /** The example's listener and upstream addresses, all local to the machine. */
    private void giveTheExampleAddressesToLo() {
        Set<Endpoint> endpoints = new LinkedHashSet<>(listenEndpoints());
        endpoints.add(upstream());
        for (Endpoint e : endpoints) {
            boolean v6 = e.toSocketAddress().getAddress() instanceof Inet6Address;
            ok(machine.exec("ip", v6 ? "-6" : "-4", "address", "add", e.host() + (v6 ? "/128" : "/32"), "dev", "lo"));
        }
    }

    /** An anonymous vsftpd on the example's upstream address, as a transient unit. */
    private void startUpstream() throws IOException {
        Path srv = Files.createDirectories(machine.root().resolve("srv/ftp-upstream"));
        Files.createDirectories(machine.root().resolve("srv/ftp-upstream-empty"));
        Files.writeString(srv.resolve(UPSTREAM_FILE), UPSTREAM_TEXT);
        Endpoint upstream = upstream();
        Files.writeString(machine.root().resolve("etc/ftp-upstream.conf"), String.join("\n",
                "background=NO",
                "listen=YES",
                "listen_address=" + upstream.host(),
                "listen_port=" + upstream.port(),
                "anonymous_enable=YES",
                "no_anon_password=YES",
                "local_enable=NO",
                "anon_root=/srv/ftp-upstream",
                "dirlist_enable=YES",
                "pasv_enable=YES",
                "port_enable=YES",
                "connect_from_port_20=NO",
                "seccomp_sandbox=NO",
                "secure_chroot_dir=/srv/ftp-upstream-empty",
                ""));
        ok(machine.exec("systemd-run", "--unit=ftp-upstream", "/usr/sbin/vsftpd", "/etc/ftp-upstream.conf"));
        await("vsftpd on " + upstream).atMost(SETTLE).pollInterval(Duration.ofMillis(100)).until(() ->
                machine.exec("curl", "-sS", "--max-time", "10", url(upstream, UPSTREAM_FILE)).stdout()
                        .equals(UPSTREAM_TEXT));
    }

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
        List<String> lines = Files.readAllLines(REPO.resolve("README.md"));
        int heading = lines.indexOf(README_SECTION);
        assertThat(heading).as("README.md has the heading '%s'", README_SECTION).isNotNegative();
        int open = lines.subList(heading, lines.size()).indexOf("```sh") + heading;
        int close = lines.subList(open + 1, lines.size()).indexOf("```") + open + 1;
        assertThat(open).as("a ```sh block after the heading").isGreaterThan(heading);
        List<String> block = lines.subList(open + 1, close).stream().filter(l -> !l.startsWith("mvn ")).toList();
        assertThat(block).as("the install block").anyMatch(l -> l.contains("systemctl enable --now ftpgate"));
        return String.join("\n", block) + "\n";
    }

    // --- looking at it ---

    private String property(String name) {
        return properties(name).get(name);
    }

    private Map<String, String> properties(String... names) {
        String out = ok(machine.exec("systemctl", "show", "--property=" + String.join(",", names), "ftpgate")).stdout();
        return out.lines().filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
    }

    private String journal() {
        return ok(machine.exec("journalctl", "--no-pager", "--unit=ftpgate", "--output=cat")).stdout();
    }

    private String curl(String... args) {
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        argv.addAll(List.of(args));
        return ok(machine.exec(argv)).stdout();
    }

    private static String url(Endpoint endpoint, String path) {
        return "ftp://" + endpoint + "/" + path;
    }

    private void assertNoFtpgateFirewallObjects() {
        for (String save : List.of("iptables-save", "ip6tables-save")) {
            assertThat(ok(machine.exec(save)).stdout()).as(save).doesNotContainIgnoringCase("FTPGATE");
        }
    }

    private List<Endpoint> listenEndpoints() {
        return example.listeners().stream().flatMap(l -> l.listen().stream()).toList();
    }

    private Endpoint upstream() {
        List<Endpoint> upstreams = example.listeners().stream().map(Settings.Listener::upstream).distinct().toList();
        assertThat(upstreams).as("config/ftpgate.conf's upstreams").hasSize(1);
        return upstreams.get(0);
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("ftpgate.jar", "target/ftpgate.jar"));
        assertThat(jar).as("the jar (mvn package)").isRegularFile();
        return jar;
    }

    private static CommandRunner.Result ok(CommandRunner.Result result) {
        assertThat(result.ok()).as("%s%n%s%n%s", String.join(" ", result.argv()), result.failure(),
                result.stdout() + result.stderr()).isTrue();
        return result;
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
