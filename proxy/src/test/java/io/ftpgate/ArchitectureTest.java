package io.ftpgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Keeps the package arrows of STYLE.md pointing one way: the protocol core and the policy are pure
 * (no Netty, no I/O libraries), only {@code config} reads Typesafe Config, only {@code tls} reads
 * keys (Bouncy Castle) and builds TLS contexts from them, only {@code metrics}
 * (and the wiring) touches Micrometer, only {@code firewall.process.CommandRunner} starts
 * processes, and nothing imports the root package.
 */
class ArchitectureTest {
    private static final Path MAIN = Path.of("src/main/java/io/ftpgate");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);

    @ParameterizedTest(name = "{0} imports only {1}")
    @CsvSource(delimiter = ';', value = {
            "protocol;          java. io.ftpgate.protocol.",
            "protocol/codec;    java. io.netty. io.ftpgate.protocol.",
            "policy;            java. io.ftpgate.protocol. io.ftpgate.config. io.ftpgate.policy.",
            "firewall;          java. org.slf4j. io.ftpgate.firewall.",
            "firewall/process;  java. org.slf4j. io.ftpgate.firewall.FirewallException io.ftpgate.firewall.process.",
            "firewall/iptables; java. org.slf4j. io.ftpgate.firewall.",
            "config;            java. com.typesafe.config. io.ftpgate.config.",
            "metrics;           java. io.micrometer. com.sun.net.httpserver. io.ftpgate.metrics.",
            "data;              java. org.slf4j. io.netty. io.ftpgate.protocol. io.ftpgate.policy. io.ftpgate.firewall. io.ftpgate.metrics.GatewayMetrics io.ftpgate.data.",
            "session;           java. javax.net.ssl. org.slf4j. io.netty. io.ftpgate.protocol. io.ftpgate.policy. io.ftpgate.firewall. io.ftpgate.metrics.GatewayMetrics io.ftpgate.data. io.ftpgate.config. io.ftpgate.tls. io.ftpgate.log. io.ftpgate.session.",
            "log;               java. org.slf4j. ch.qos.logback.core. io.ftpgate.protocol. io.ftpgate.policy.Reason io.ftpgate.metrics.GatewayMetrics io.ftpgate.log.",
            "tls;               java. javax.net.ssl. io.netty. org.bouncycastle. io.ftpgate.config. io.ftpgate.tls.",
    })
    void packageImportsOnlyWhatItMay(String pkg, String allowed) throws IOException {
        List<String> offending = new ArrayList<>();
        String[] prefixes = allowed.trim().split("\\s+");
        for (Path file : javaFiles(MAIN.resolve(pkg.trim()), 1)) {
            Matcher m = IMPORT.matcher(Files.readString(file));
            while (m.find()) {
                String imported = m.group(1);
                if (Stream.of(prefixes).noneMatch(imported::startsWith)) {
                    offending.add(file.getFileName() + ": " + imported);
                }
            }
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void onlyCommandRunnerStartsProcesses() throws IOException {
        List<String> starters = new ArrayList<>();
        for (Path file : javaFiles(MAIN, Integer.MAX_VALUE)) {
            String text = Files.readString(file);
            if (text.contains("ProcessBuilder") || text.contains(".exec(")) {
                starters.add(MAIN.relativize(file).toString());
            }
        }
        assertThat(starters).containsExactly("firewall/process/CommandRunner.java");
    }

    @Test
    void nothingImportsTheRootPackage() throws IOException {
        List<String> offending = new ArrayList<>();
        Pattern root = Pattern.compile("^import\\s+io\\.ftpgate\\.[A-Z]", Pattern.MULTILINE);
        for (Path file : javaFiles(MAIN, Integer.MAX_VALUE)) {
            if (root.matcher(Files.readString(file)).find()) {
                offending.add(MAIN.relativize(file).toString());
            }
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void everyPackageSaysWhatItIsFor() throws IOException {
        try (Stream<Path> dirs = Files.walk(MAIN)) {
            List<Path> missing = dirs.filter(Files::isDirectory)
                    .filter(d -> !Files.exists(d.resolve("package-info.java"))).toList();
            assertThat(missing).isEmpty();
        }
    }

    private static List<Path> javaFiles(Path dir, int depth) throws IOException {
        assertThat(dir).as("run from the module directory").isDirectory();
        try (Stream<Path> files = Files.walk(dir, depth)) {
            return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }
}
