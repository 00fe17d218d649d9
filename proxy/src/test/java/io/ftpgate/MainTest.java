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

    @Test
    void helpAndVersion() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--config FILE", "--demo", "Exit codes");
        assertThat(run("--version")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("ftpgate ");
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(run("--frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown option '--frobnicate'", "Usage:");
    }

    @Test
    void listenWithoutUpstreamIsAUsageError() {
        assertThat(run("--listen", "127.0.0.1:2121")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--listen and --upstream go together");
        assertThat(run("--config")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--config needs a value");
    }

    @Test
    void badConfigExits78NamingFileLineAndKey() throws Exception {
        Path f = dir.resolve("bad.conf");
        Files.writeString(f, "ftpgate {\n  data.port-range = \"10-20\"\n}\n");
        assertThat(run("--config", f.toString(), "--check-config")).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bad.conf: 2", "ftpgate.data.port-range");
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
    void checkConfigAcceptsTheExampleAndCommandLineListeners() {
        assertThat(run("--config", "../config/ftpgate.conf", "--check-config")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("configuration ok", "dmz");
        assertThat(run("--listen", "[::1]:2121", "--listen", "127.0.0.1:2121", "--upstream", "192.0.2.7:21",
                "--firewall", "iptables", "--check-config")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("upstream=192.0.2.7:21", "IPTABLES");
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
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("listener ftps: certificate " + dir.resolve("chain.pem") + " (CN=ftp.example.net, SHA-256 ")
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
    }

    @Test
    void theNftablesBackendRefusesTransparentListenersWith78() throws Exception {
        Path f = dir.resolve("nft-t.conf");
        Files.writeString(f, """
                ftpgate.firewall.backend = nftables
                ftpgate.destinations.allow = ["203.0.113.0/24"]
                ftpgate.listeners.t { mode = transparent, listen = ["0.0.0.0:2121"] }
                """);
        assertThat(run("--config", f.toString(), "--check-config")).isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ftpgate.firewall.backend",
                "nftables does not divert transparent connections yet");
    }

    @Test
    void badFirewallNameExits78() {
        assertThat(run("--listen", "127.0.0.1:2121", "--upstream", "192.0.2.7:21", "--firewall", "pf", "--check-config"))
                .isEqualTo(78);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("ftpgate.firewall.backend", "iptables, ipset, nftables, none");
    }
}
