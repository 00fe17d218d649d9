package io.ftpgate.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.firewall.process.CommandRunner;
import java.io.IOException;
import java.net.Inet6Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A booted {@link NspawnMachine} made into the site {@code config/ftpgate.conf} describes: its
 * listener and upstream addresses on {@code lo}, an anonymous vsftpd at the upstream address; and
 * the ways the deployment tests look at the unit there (properties, journal, curl, firewall).
 */
final class ExampleSite {
    static final String UPSTREAM_FILE = "hello.txt";
    static final String UPSTREAM_TEXT = "served by vsftpd behind ftpgate under systemd\n";
    static final Duration SETTLE = Duration.ofSeconds(60);

    private final NspawnMachine machine;
    private final Settings example;

    ExampleSite(NspawnMachine machine, Settings example) {
        this.machine = machine;
        this.example = example;
    }

    /** The example's listener and upstream addresses, all local to the machine. */
    void giveTheExampleAddressesToLo() {
        Set<Endpoint> endpoints = new LinkedHashSet<>(listenEndpoints());
        endpoints.add(upstream());
        for (Endpoint e : endpoints) {
            boolean v6 = e.toSocketAddress().getAddress() instanceof Inet6Address;
            ok(machine.exec("ip", v6 ? "-6" : "-4", "address", "add", e.host() + (v6 ? "/128" : "/32"), "dev", "lo"));
        }
    }

    /** An anonymous vsftpd on the example's upstream address, as a transient unit. */
    void startUpstream() throws IOException {
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

    String property(String name) {
        return properties(name).get(name);
    }

    Map<String, String> properties(String... names) {
        String out = ok(machine.exec("systemctl", "show", "--property=" + String.join(",", names), "ftpgate")).stdout();
        return out.lines().filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
    }

    String journal() {
        return ok(machine.exec("journalctl", "--no-pager", "--unit=ftpgate", "--output=cat")).stdout();
    }

    String curl(String... args) {
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        argv.addAll(List.of(args));
        return ok(machine.exec(argv)).stdout();
    }

    static String url(Endpoint endpoint, String path) {
        return "ftp://" + endpoint + "/" + path;
    }

    void assertNoFtpgateFirewallObjects() {
        for (String save : List.of("iptables-save", "ip6tables-save")) {
            assertThat(ok(machine.exec(save)).stdout()).as(save).doesNotContainIgnoringCase("FTPGATE");
        }
        if (machine.exec("sh", "-c", "command -v ipset").ok()) {
            assertThat(ok(machine.exec("ipset", "list", "-name")).stdout()).as("ipset sets").doesNotContainIgnoringCase("FTPGATE");
        }
    }

    List<Endpoint> listenEndpoints() {
        return example.listeners().stream().flatMap(l -> l.listen().stream()).toList();
    }

    Endpoint upstream() {
        List<Endpoint> upstreams = example.listeners().stream().map(Settings.Listener::upstream).distinct().toList();
        assertThat(upstreams).as("config/ftpgate.conf's upstreams").hasSize(1);
        return upstreams.get(0);
    }

    static CommandRunner.Result ok(CommandRunner.Result result) {
        assertThat(result.ok()).as("%s%n%s%n%s", String.join(" ", result.argv()), result.failure(),
                result.stdout() + result.stderr()).isTrue();
        return result;
    }

    /** The first {@code sh} block after {@code heading} in README.md, without the build (Maven did it). */
    static List<String> readmeBlock(String heading) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
        int at = lines.indexOf(heading);
        assertThat(at).as("README.md has the heading '%s'", heading).isNotNegative();
        int open = lines.subList(at, lines.size()).indexOf("```sh") + at;
        int close = lines.subList(open + 1, lines.size()).indexOf("```") + open + 1;
        assertThat(open).as("a ```sh block after the heading").isGreaterThan(at);
        return lines.subList(open + 1, close).stream().filter(l -> !l.startsWith("mvn ")).toList();
    }
}
