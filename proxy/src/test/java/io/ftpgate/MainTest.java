package io.ftpgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as an admin meets it: exit codes and messages. */
class MainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpAndVersion() {
        assertThat(run("--help")).isZero();
        assertThat(out()).contains("Usage: ftpgate", "--config=FILE", "settings file (HOCON)", "--demo",
                "-t, --check-config", "-T, --print-config", "--firewall=BACKEND", "firewall backend: ipset, iptables, nftables, none",
                "Exit codes:", "78   configuration error", "FTPGATE_LOG_FORMAT");
        assertThat(run("--version")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("ftpgate ");
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(run("--frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ftpgate: Unknown option: '--frobnicate'",
                "Usage: ftpgate [OPTIONS]", "Try 'ftpgate --help'");
    }

    @Test
    void listenWithoutUpstreamIsAUsageError() {
        assertThat(run("--listen", "127.0.0.1:2121")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--listen and --upstream go together");
        assertThat(run("--config")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Missing required parameter for option '--config' (FILE)");
    }

    @Test
    void badConfigExits78NamingFileLineAndKey() throws Exception {
        Path f = dir.resolve("bad.conf");
        Files.writeString(f, "ftpgate {\n  data.port-range = \"10-20\"\n}\n");
        assertThat(run("--config", f.toString(), "--check-config")).isEqualTo(78);
        assertThat(err()).contains("ftpgate: configuration error: " + f + ": 2: ", "ftpgate.data.port-range")
                .endsWith("ftpgate: configuration file " + f + " test failed\n")
                .doesNotContain("syntax is ok");
    }

    @Test
    void checkConfigRefusesProxiedDataConnectionsOnTheKernelPath() throws Exception {
        Path f = dir.resolve("proxied.conf");
        Files.writeString(f, "ftpgate {\n  listeners.main { listen = [\"0.0.0.0:21\"], upstream = \"192.0.2.7:21\",\n"
                + "    proxy-protocol { enabled = true, trusted = [\"192.0.2.1/32\"], data-connections = true } }\n"
                + "  data.path = kernel\n}\n");
        assertThat(run("--config", f.toString(), "--check-config")).isEqualTo(78);
        assertThat(err()).contains("ftpgate: configuration error: " + f + ": 3: ftpgate.listeners.main.proxy-protocol"
                + ".data-connections: data connections with a PROXY header cannot take data.path = kernel");
        Files.writeString(f, Files.readString(f).replace("data.path = kernel", "data.path = relay"));
        assertThat(run("--config", f.toString(), "--check-config")).as(err()).isZero();
    }

    @Test
    void missingConfigFileExits78() {
        assertThat(run("--config", dir.resolve("nope.conf").toString())).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("nope.conf", "cannot read");
    }

    @Test
    void noListenerExits78() {
        assertThat(run("--check-config")).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no listener");
    }

    @Test
    void checkConfigSpeaksLikeNginxT() {
        assertThat(run("--config", "../config/ftpgate.conf", "--check-config")).isZero();
        assertThat(err()).isEqualTo("""
                ftpgate: the configuration file ../config/ftpgate.conf syntax is ok
                ftpgate: configuration file ../config/ftpgate.conf test is successful
                """);
        assertThat(out()).isEmpty();
    }

    @Test
    void printConfigShowsTheEffectiveSettingsWithTheirOrigin() throws Exception {
        assertThat(run("--config", "../config/ftpgate.conf", "--listen", "[::1]:2121", "--upstream", "192.0.2.7:21",
                "--firewall", "iptables", "--print-config")).isZero();
        assertThat(err()).contains("syntax is ok", "test is successful");
        String printed = out();
        java.util.List<String> example = java.nio.file.Files.readAllLines(java.nio.file.Path.of("../config/ftpgate.conf"));
        int line = 1 + java.util.stream.IntStream.range(0, example.size())
                .filter(i -> example.get(i).strip().equals("max-sessions = 2000")).findFirst().orElseThrow();
        assertThat(printed)
                .contains("# ../config/ftpgate.conf: " + line + "\n        max-sessions=2000")
                .contains("# command line\n        backend=iptables")
                .contains("upstream=\"192.0.2.7:21\"")
                .containsPattern("# reference.conf @ .*reference.conf: \\d+\n        max-line-length=4096");
        // What it prints is a settings file that means the same.
        Path again = Files.writeString(dir.resolve("printed.conf"), printed);
        assertThat(io.ftpgate.config.SettingsLoader.load(java.util.Optional.of(again), com.typesafe.config.ConfigFactory.empty()))
                .isEqualTo(io.ftpgate.config.SettingsLoader.load(java.util.Optional.of(Path.of("../config/ftpgate.conf")),
                        com.typesafe.config.ConfigFactory.parseMap(java.util.Map.of(
                                "ftpgate.listeners.cli.listen", java.util.List.of("[::1]:2121"),
                                "ftpgate.listeners.cli.upstream", "192.0.2.7:21",
                                "ftpgate.firewall.backend", "iptables"))));
    }

    @Test
    void bashCompletionCompletesOptionsAndBackends() throws Exception {
        assertThat(run("--completion")).isZero();
        Path script = Files.writeString(dir.resolve("ftpgate.bash"), out());
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "no /bin/bash");
        assertThat(complete(script, "--check")).isEqualTo("--check-config");
        assertThat(complete(script, "--firewall", "ip")).isEqualTo("ipset iptables");
    }

    /** What bash offers after {@code ftpgate WORDS} (the last word is being typed). */
    private static String complete(Path script, String... words) throws Exception {
        String cmd = "source " + script + "; COMP_WORDS=(ftpgate " + String.join(" ", words) + "); COMP_CWORD="
                + words.length + "; COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; _complete_ftpgate;"
                + " echo \"${COMPREPLY[*]}\"";
        // stderr: compopt complains outside a real completion; what counts is COMPREPLY.
        Process p = new ProcessBuilder("/bin/bash", "-c", cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as(output).isZero();
        return output;
    }

    private Path tlsConfig(io.netty.pkitesting.X509Bundle cert, io.netty.pkitesting.X509Bundle key) throws Exception {
        Path chain = Files.writeString(dir.resolve("chain.pem"), cert.getCertificatePathPEM());
        Path keyFile = Files.writeString(dir.resolve("key.pem"), key.getPrivateKeyPEM());
        return Files.writeString(dir.resolve("tls.conf"), """
                ftpgate.listeners.ftps {
                  listen = ["127.0.0.1:2121"], upstream = "192.0.2.7:21"
                  tls { mode = explicit, certificate = "%s", private-key = "%s" }
                  upstream-tls { mode = explicit, verify = insecure }
                }
                """.formatted(chain, keyFile));
    }

    private static io.netty.pkitesting.X509Bundle cert(java.time.Duration validFor) throws Exception {
        java.time.Instant now = java.time.Instant.now();
        return new io.netty.pkitesting.CertificateBuilder().subject("CN=ftp.example.net").ecp256()
                .notBefore(now.minus(java.time.Duration.ofDays(400))).notAfter(now.plus(validFor))
                .setIsCertificateAuthority(true).buildSelfSigned();
    }

    @Test
    void checkConfigSaysWhenATlsCertificateExpires() throws Exception {
        io.netty.pkitesting.X509Bundle c = cert(java.time.Duration.ofDays(86).plusHours(1));
        Path conf = tlsConfig(c, c);
        assertThat(run("--config", conf.toString(), "--check-config")).isZero();
        assertThat(err())
                .contains("ftpgate: listener ftps: certificate " + dir.resolve("chain.pem") + " (CN=ftp.example.net, SHA-256 ")
                .contains(" (in 86 days)")
                .contains("listener ftps: server leg explicit, verified by insecure");
    }

    @Test
    void checkConfigExits78WhenKeyAndChainDoNotMatch() throws Exception {
        Path conf = tlsConfig(cert(java.time.Duration.ofDays(90)), cert(java.time.Duration.ofDays(90)));
        assertThat(run("--config", conf.toString(), "--check-config")).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("configuration error: listener ftps: " + dir.resolve("key.pem")
                        + ": the private key does not belong to the certificate CN=ftp.example.net in " + dir.resolve("chain.pem"));
    }

    @Test
    void checkConfigExits78ForAnExpiredCertificate() throws Exception {
        io.netty.pkitesting.X509Bundle old = cert(java.time.Duration.ofDays(-2));
        Path conf = tlsConfig(old, old);
        assertThat(run("--config", conf.toString(), "--check-config")).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains(dir.resolve("chain.pem") + ": the certificate expired on ");
    }

    @Test
    void printFirewallShowsTheNftablesTableAndTheRuleForTheAdminsChains() throws Exception {
        Path f = dir.resolve("nft.conf");
        Files.writeString(f, """
                ftpgate.firewall.backend = nftables
                ftpgate.firewall.nftables { manage-hook-rules = false }
                """);
        assertThat(run("--config", f.toString(), "--print-firewall")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains(
                "table inet ftpgate {\n\tset in4 {\n\t\ttype ipv4_addr . inet_service . ipv4_addr\n",
                "\t\tct state new ip saddr . tcp dport . ip daddr @in4 meta mark set meta mark | 0x00800000 comment \"ftpgate lease set\"\n",
                "put this rule at the top of each of your chains",
                "\nmeta mark & 0x00800000 == 0x00800000 accept comment \"ftpgate leases (table inet ftpgate)\"\n",
                "# no transparent listener: nothing to intercept");
        assertThat(out.toString(StandardCharsets.UTF_8)).as("no kernel path without data.path = kernel")
                .doesNotContain("map fwd4", "chain kernel-dnat", "hook forward");
    }

    @Test
    void printFirewallShowsTheNftablesKernelPathObjectsWithDataPathKernel() throws Exception {
        Path f = dir.resolve("nft-kernel.conf");
        Files.writeString(f, """
                ftpgate.data { path = kernel, port-range = "41000-41099", connect-timeout = 20s }
                ftpgate.firewall.backend = nftables
                ftpgate.firewall.nftables { manage-hook-rules = false }
                """);
        assertThat(run("--config", f.toString(), "--print-firewall")).as(err.toString(StandardCharsets.UTF_8)).isZero();
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains(
                "data.path = kernel, data ports 41000-41099",
                "\tmap fwd4 {\n\t\ttype ipv4_addr . ipv4_addr . inet_service : ipv4_addr . inet_service\n\t\tsize 262144\n"
                        + "\t\tflags timeout\n\t}\n",
                "\tmap snat6 {\n\t\ttype ipv6_addr . ipv6_addr . inet_service : ipv6_addr\n",
                // used4 lives as long as a lease's elements: data.connect-timeout and the 5 s margin
                "\tset used4 {\n\t\ttype ipv4_addr . ipv4_addr . inet_service\n\t\tsize 262144\n\t\tflags dynamic,timeout\n"
                        + "\t\ttimeout 25s\n\t}\n",
                "\tchain kernel-dnat {\n\t\ttype nat hook prerouting priority dstnat - 10; policy accept;\n",
                "\t\tip saddr . ip daddr . tcp dport @fwd4 add @used4 { ip saddr . ip daddr . tcp dport } dnat ip to ip saddr"
                        + " . ip daddr . tcp dport map @fwd4 comment \"ftpgate kernel path\"\n",
                "\tchain kernel-snat {\n\t\ttype nat hook postrouting priority srcnat - 10; policy accept;\n",
                "\t\tmeta l4proto tcp ct state established,related ct status dnat ct original proto-dst 41000-41099"
                        + " meta mark set meta mark | 0x00800000 comment \"ftpgate kernel path\"\n",
                "(type filter, hook input and hook forward; hook output too with guard-output)",
                "\nmeta mark & 0x00800000 == 0x00800000 accept comment \"ftpgate leases (table inet ftpgate)\"\n");
        // The lease sets and input chain are still there, and the table is one block.
        assertThat(printed).contains("\tset in4 {\n", "\tchain input {\n");
        assertThat(printed.lines().filter(l -> l.startsWith("table ")).count()).isOne();
    }

    @Test
    void theNftablesBackendTakesTransparentListeners() throws Exception {
        Path f = dir.resolve("nft-t.conf");
        Files.writeString(f, """
                ftpgate.firewall.backend = nftables
                ftpgate.destinations.allow = ["203.0.113.0/24"]
                ftpgate.listeners.t { mode = transparent, listen = ["0.0.0.0:2121"] }
                """);
        assertThat(run("--config", f.toString(), "--check-config")).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).doesNotContain("nftables does not divert");
    }

    @Test
    void badFirewallNameExits78() {
        assertThat(run("--listen", "127.0.0.1:2121", "--upstream", "192.0.2.7:21", "--firewall", "pf", "--check-config"))
                .isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ftpgate.firewall.backend", "iptables, ipset, nftables, none");
    }
}
