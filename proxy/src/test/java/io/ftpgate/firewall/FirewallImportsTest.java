package io.ftpgate.firewall;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the firewall packages' arrows pointing one way (STYLE.md): {@code firewall} imports the JDK
 * and SLF4J only, {@code firewall.iptables} adds {@code firewall}, and only {@code CommandRunner}
 * starts processes.
 */
class FirewallImportsTest {

    private static final Path SOURCES = Path.of("src/main/java/io/ftpgate/firewall");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);

    @Test
    void firewallImportsJdkAndSlf4jOnly() throws IOException {
        assertThat(importsOutside(SOURCES, 1, "java.", "org.slf4j.")).isEmpty();
    }

    @Test
    void iptablesImportsFirewallJdkAndSlf4jOnly() throws IOException {
        assertThat(importsOutside(SOURCES.resolve("iptables"), 1, "java.", "org.slf4j.", "io.ftpgate.firewall."))
                .isEmpty();
    }

    @Test
    void onlyCommandRunnerStartsProcesses() throws IOException {
        List<String> starters = new ArrayList<>();
        for (Path file : javaFiles(SOURCES, Integer.MAX_VALUE)) {
            String text = Files.readString(file);
            if (text.contains("ProcessBuilder") || text.contains("Runtime.getRuntime")) {
                starters.add(SOURCES.relativize(file).toString());
            }
        }
        assertThat(starters).containsExactly("iptables/CommandRunner.java");
    }

    private static List<String> importsOutside(Path dir, int depth, String... allowed) throws IOException {
        List<String> offending = new ArrayList<>();
        for (Path file : javaFiles(dir, depth)) {
            Matcher m = IMPORT.matcher(Files.readString(file));
            while (m.find()) {
                String imported = m.group(1);
                if (Stream.of(allowed).noneMatch(imported::startsWith)) {
                    offending.add(file.getFileName() + ": " + imported);
                }
            }
        }
        return offending;
    }

    private static List<Path> javaFiles(Path dir, int depth) throws IOException {
        assertThat(dir).as("run from the module directory").isDirectory();
        try (Stream<Path> files = Files.walk(dir, depth)) {
            return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }
}
