package io.ftpgate.protocol;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** STYLE.md: the pure core imports the JDK only, so it can be tested and reasoned about alone. */
class ProtocolImportsTest {

    @Test
    void pureCoreImportsOnlyTheJdk() throws IOException {
        Path dir = Path.of("src/main/java/io/ftpgate/protocol");
        assertThat(dir).isDirectory();
        List<String> imports;
        try (Stream<Path> files = Files.list(dir)) {
            imports = files.filter(f -> f.toString().endsWith(".java"))
                    .flatMap(ProtocolImportsTest::lines)
                    .filter(line -> line.startsWith("import "))
                    .toList();
        }
        assertThat(imports).isNotEmpty()
                .allMatch(line -> line.matches("import (static )?(java|javax)\\..*"), "a JDK import");
    }

    private static Stream<String> lines(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
