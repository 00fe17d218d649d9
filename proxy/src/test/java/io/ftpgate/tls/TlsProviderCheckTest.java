package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tls.provider = openssl} as {@code ftpgate --check-config} sees it, in a JVM of its own (Netty
 * decides once per JVM whether OpenSSL can be loaded): accepted where netty-tcnative loads (the jar
 * carries it for Linux x86_64), and where it cannot ({@code -Dio.netty.handler.ssl.noOpenSsl=true}
 * stands in for another platform) refused with exit 78 and a message that names the setting, the
 * reason and the way out, for a listener with TLS on either leg.
 */
class TlsProviderCheckTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out) {
    }

    private Run checkConfig(String leg, String... jvmOptions) throws Exception {
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost").ecp256()
                .setIsCertificateAuthority(true).buildSelfSigned();
        Path chain = Files.writeString(dir.resolve("chain.pem"), cert.getCertificatePathPEM());
        Path key = Files.writeString(dir.resolve("key.pem"), cert.getPrivateKeyPEM());
        String block = leg.equals("client")
                ? "tls { mode = explicit, certificate = \"" + chain + "\", private-key = \"" + key + "\" }"
                : "upstream-tls { mode = explicit, verify = ca-file, ca-file = \"" + chain + "\" }";
        Path conf = Files.writeString(dir.resolve("ftpgate.conf"), String.join("\n",
                "ftpgate.tls.provider = openssl",
                "ftpgate.listeners.ftps { listen = [\"127.0.0.1:2121\"], upstream = \"127.0.0.1:21\", " + block + " }", ""));
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1"));
        argv.addAll(List.of(jvmOptions));
        argv.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.ftpgate.Main", "--check-config",
                "--config", conf.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void opensslIsAcceptedWhereNettyTcnativeLoads() throws Exception {
        Run run = checkConfig("client");
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).contains("test is successful").contains("listener ftps: certificate");
    }

    @ParameterizedTest(name = "TLS on the {0} leg")
    @ValueSource(strings = {"client", "server"})
    void opensslIsRefusedWhereItCannotBeLoaded(String leg) throws Exception {
        Run run = checkConfig(leg, "-Dio.netty.handler.ssl.noOpenSsl=true");
        assertThat(run.exit()).as(run.out()).isEqualTo(78);
        assertThat(run.out()).contains("ftpgate: configuration error: listener ftps: tls.provider = openssl, but Netty's"
                + " OpenSSL provider (netty-tcnative) cannot be loaded here: ")
                .contains("noOpenSsl").contains("use tls.provider = jdk");
    }
}
