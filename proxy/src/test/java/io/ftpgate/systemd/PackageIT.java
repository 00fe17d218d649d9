package io.ftpgate.systemd;

import static io.ftpgate.systemd.ExampleSite.UPSTREAM_FILE;
import static io.ftpgate.systemd.ExampleSite.UPSTREAM_TEXT;
import static io.ftpgate.systemd.ExampleSite.ok;
import static io.ftpgate.systemd.ExampleSite.url;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.config.SettingsLoader;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.testing.RootTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * README.md's "Install the package", run as written in a machine booted by systemd
 * ({@link NspawnMachine}, the host's files under a throw-away overlay, so the package's
 * dependencies are those of the host: no network needed): {@code apt-get install} of the package the
 * build made (enabled, not started), the example site of {@code config/ftpgate.conf}, FTP through the
 * started unit; then an upgrade to the same package rebuilt with a higher version (the edited
 * conffile stays, the gateway restarts), and a purge that leaves nothing of ftpgate behind.
 */
@Tag("netns")
class PackageIT {
    private static final String README_SECTION = "## Install the package";
    private static final String RELEASE = "/root/ftpgate";
    private static final String CONF = "/etc/ftpgate/ftpgate.conf";
    private static final String EDIT = "\n# edited by the admin\nftpgate.control.max-sessions = 1999\n";
    private static final String DEFAULTS = "/etc/default/ftpgate";
    private static final String LOG_EDIT = "FTPGATE_LOG_FORMAT=json\nFTPGATE_XFERLOG=/var/log/ftpgate/xferlog\n";

    private NspawnMachine machine;
    private ExampleSite site;

    @RegisterExtension
    final SystemdDeploymentIT.JournalOnFailure journalOnFailure = new SystemdDeploymentIT.JournalOnFailure(() -> machine);

    @AfterEach
    void powerOff() {
        if (machine != null) {
            machine.close();
        }
    }

    @Test
    void lintianFindsNothingToReport() {
        RootTools.requireRootAndTools("lintian");
        CommandRunner.Result lintian = run(List.of("lintian", "--fail-on", "error,warning", deb().toString()));
        assertThat(lintian.stdout().lines().filter(l -> !l.startsWith("running with root privileges")))
                .as("lintian %s%n%s", deb(), lintian.stderr()).isEmpty();
        assertThat(lintian.exitCode()).as(lintian.stderr()).isZero();
    }

    @Test
    void installStartUpgradeAndPurgeLikeAnAdmin() throws Exception {
        RootTools.requireRootAndTools("systemd-nspawn", "nsenter", "mount", "umount", "ip", "iptables", "ip6tables",
                "iptables-save", "ip6tables-save", "ipset", "vsftpd", "curl", "systemctl", "journalctl", "apt-get",
                "dpkg-deb", "java");
        Path deb = deb();
        Settings example = SettingsLoader.load(Optional.of(Path.of("../config/ftpgate.conf")), ConfigFactory.empty());
        String id = ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        machine = NspawnMachine.boot("ftpgate-pkg-" + id, Path.of("target", "nspawn", id));
        site = new ExampleSite(machine, example);
        // The machine's package database becomes its own (a new, opaque directory in the overlay):
        // an apt run on the host meanwhile would otherwise show through ("dpkg was interrupted").
        ok(machine.exec("sh", "-e", "-c", "cp -a /var/lib/dpkg /var/lib/dpkg.own && rm -rf /var/lib/dpkg"
                + " && mkdir /var/lib/dpkg && cp -a /var/lib/dpkg.own/. /var/lib/dpkg/ && rm -rf /var/lib/dpkg.own"));
        site.giveTheExampleAddressesToLo();
        site.startUpstream();
        Path target = Files.createDirectories(machine.root().resolve(RELEASE.substring(1)).resolve("proxy/target"));
        Files.copy(deb, target.resolve(deb.getFileName()));

        List<String> block = ExampleSite.readmeBlock(README_SECTION);
        int install = indexOf(block, "apt-get install ./proxy/target/ftpgate_*.deb");
        sh(block.subList(0, install + 1));
        // The first install enables the unit, does not start it (the example names example addresses).
        assertThat(machine.exec("systemctl", "is-enabled", "ftpgate").stdout().strip()).isEqualTo("enabled");
        assertThat(site.property("ActiveState")).isEqualTo("inactive");
        assertThat(ok(machine.exec("getent", "passwd", "ftpgate")).stdout()).contains(":/:/usr/sbin/nologin");
        assertThat(ok(machine.exec("stat", "-c", "%U %G %a", CONF)).stdout().strip()).isEqualTo("root ftpgate 640");
        assertThat(ok(machine.exec("ftpgate", "--version")).stdout()).startsWith("ftpgate ");
        assertThat(ok(machine.exec("sh", "-c", "zcat /usr/share/man/man1/ftpgate.1.gz")).stdout())
                .contains(".TH FTPGATE \"1\"", "check\\-config");
        assertThat(ok(machine.exec("bash", "-c", "source /usr/share/bash-completion/completions/ftpgate;"
                + " COMP_WORDS=(ftpgate --check); COMP_CWORD=1; _complete_ftpgate 2>/dev/null; echo ${COMPREPLY[*]}"))
                .stdout().strip()).isEqualTo("--check-config");

        sh(block.subList(install + 1, block.size()));
        assertThat(site.property("ActiveState")).isEqualTo("active");
        Endpoint first = site.listenEndpoints().get(0);
        assertThat(site.curl(url(first, UPSTREAM_FILE))).isEqualTo(UPSTREAM_TEXT);
        assertThat(site.curl("-P", "-", url(first, UPSTREAM_FILE))).as("EPRT").isEqualTo(UPSTREAM_TEXT);
        assertThat(site.journal()).contains("download RETR \"" + UPSTREAM_FILE + "\"");

        upgradeKeepsTheEditedConffileAndRestarts(deb, first);
        purgeLeavesNothing();
    }

    private void upgradeKeepsTheEditedConffileAndRestarts(Path deb, Endpoint first) throws IOException {
        Files.writeString(machine.root().resolve(CONF.substring(1)), EDIT, StandardOpenOption.APPEND);
        Files.writeString(machine.root().resolve(DEFAULTS.substring(1)), LOG_EDIT, StandardOpenOption.APPEND);
        String version = ok(machine.exec("dpkg-query", "-W", "-f=${Version}", "ftpgate")).stdout().strip();
        String next = version + "+test1";
        String pid = site.property("MainPID");
        // The same package rebuilt with a higher version, as the next release would be.
        ok(machine.exec("sh", "-e", "-x", "-c", "cd " + RELEASE + "\n"
                + "dpkg-deb -R proxy/target/" + deb.getFileName() + " next\n"
                + "sed -i 's/^Version: .*/Version: " + next + "/' next/DEBIAN/control\n"
                + "dpkg-deb --root-owner-group -b next ftpgate_next_amd64.deb\n"
                + "apt-get install ./ftpgate_next_amd64.deb\n"));

        assertThat(ok(machine.exec("dpkg-query", "-W", "-f=${Version}", "ftpgate")).stdout().strip()).isEqualTo(next);
        assertThat(Files.readString(machine.root().resolve(CONF.substring(1)))).endsWith(EDIT);
        assertThat(Files.readString(machine.root().resolve(DEFAULTS.substring(1)))).endsWith(LOG_EDIT);
        assertThat(ok(machine.exec("sh", "-c", "ls /etc/ftpgate /etc/default | grep dpkg- || true")).stdout())
                .as("no .dpkg-new or .dpkg-dist beside the conffiles").isEmpty();
        assertThat(site.property("ActiveState")).isEqualTo("active");
        assertThat(site.property("MainPID")).as("restarted with the new jar").isNotEqualTo(pid);
        assertThat(site.curl(url(first, UPSTREAM_FILE))).as("after the upgrade").isEqualTo(UPSTREAM_TEXT);
        // The environment file's settings now hold: one JSON object per line; the xferlog file goes
        // to the unit's LogsDirectory (writable despite ProtectSystem=strict), and no run as root
        // (ExecStopPost's cleanup reads the same environment) made it first, with root as owner.
        String daemon = ok(machine.exec("journalctl", "--no-pager", "--identifier=ftpgate", "--output=cat")).stdout();
        List<String> since = daemon.lines().dropWhile(l -> !l.contains("\"message\":\"ftpgate ready")).toList();
        assertThat(since).as("JSON lines after the restart").isNotEmpty()
                .allMatch(l -> l.startsWith("{\"@timestamp\":") && l.endsWith("}"), "one JSON object per line")
                .anyMatch(l -> l.contains("\"logger_name\":\"ftpgate.session\"") && l.contains("download RETR"));
        assertThat(ok(machine.exec("stat", "-c", "%U", "/var/log/ftpgate")).stdout().strip()).isEqualTo("ftpgate");
        assertThat(ok(machine.exec("find", "/var/log/ftpgate", "-not", "-user", "ftpgate")).stdout()).isEmpty();
        CommandRunner.Result printed = ok(machine.exec("ftpgate", "--print-config", "--config", CONF));
        assertThat(printed.stdout()).contains("# " + CONF + ": ", "max-sessions=1999");
    }

    private void purgeLeavesNothing() {
        ok(machine.exec("apt-get", "purge", "-y", "ftpgate"));

        assertThat(machine.exec("dpkg-query", "-W", "ftpgate").ok()).as("dpkg still knows ftpgate").isFalse();
        assertThat(machine.exec("getent", "passwd", "ftpgate").ok()).as("user ftpgate").isFalse();
        assertThat(machine.exec("getent", "group", "ftpgate").ok()).as("group ftpgate").isFalse();
        assertThat(machine.exec("dpkg-statoverride", "--list", CONF).ok()).as("stat override").isFalse();
        String left = ok(machine.exec("sh", "-c", "for p in /etc/ftpgate /etc/default/ftpgate /usr/share/ftpgate"
                + " /usr/bin/ftpgate /lib/systemd/system/ftpgate.service /usr/lib/sysusers.d/ftpgate.conf"
                + " /etc/systemd/system/ftpgate.service.d /etc/systemd/system/multi-user.target.wants/ftpgate.service"
                + " /var/log/ftpgate /usr/share/man/man1/ftpgate.1.gz /usr/share/bash-completion/completions/ftpgate"
                + " /usr/share/doc/ftpgate /usr/share/lintian/overrides/ftpgate /var/lib/systemd/deb-systemd-helper-enabled/ftpgate.service.dsh-also;"
                + " do if [ -e $p ] || [ -L $p ]; then echo $p; fi; done")).stdout();
        assertThat(left).as("files left").isEmpty();
        assertThat(machine.exec("systemctl", "cat", "ftpgate").ok()).as("unit still known").isFalse();
        site.assertNoFtpgateFirewallObjects();
    }

    private void sh(List<String> lines) {
        ok(machine.exec("sh", "-e", "-x", "-c", "cd " + RELEASE + "\n" + String.join("\n", lines) + "\n"));
    }

    private static int indexOf(List<String> block, String text) {
        for (int i = 0; i < block.size(); i++) {
            if (block.get(i).startsWith(text)) {
                return i;
            }
        }
        throw new AssertionError("README's block has no line '" + text + "': " + block);
    }

    /** The package {@code mvn package} made next to the jar (profile deb: help2man installed). */
    private static Path deb() {
        Path dir = Path.of(System.getProperty("ftpgate.jar", "target/ftpgate.jar")).toAbsolutePath().getParent();
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().matches("ftpgate_.*_amd64\\.deb")).toList();
            if (debs.isEmpty()) {
                RootTools.unavailable("no " + dir + "/ftpgate_*_amd64.deb: the build makes it where help2man is installed");
            }
            assertThat(debs).as("one package in " + dir).hasSize(1);
            return debs.get(0);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static CommandRunner.Result run(List<String> argv) {
        try {
            return new CommandRunner().run(argv, Duration.ofMinutes(3));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
