package io.ftpgate.protocol;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class LogTextTest {

    @ParameterizedTest(name = "[{0}] -> [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            plain                    | plain
            "a\tb"                   | a\\x09b
            "\u0000"                 | \\x00
            "\u007f"                 | \\x7f
            "back\\slash"            | back\\\\slash
            "\u00c3\u00a9t\u00c3\u00a9" | "\u00e9t\u00e9"
            "\u00c2\u009b"           | \\x9b
            "\u009b2J"               | \\x9b2J
            "\u00e9"                 | \\xe9
            "\u00e2\u0080\u008b"     | \\x{200b}
            """)
    void escapes(String wire, String logged) {
        assertThat(LogText.escape(wire)).isEqualTo(logged);
    }

    @ParameterizedTest(name = "[{0}] -> [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            PASS secret              | PASS ****
            "pAsS  two words "       | pAsS ****
            "PASS\u0000x"            | PASS\\x00x
            PASSWORD x               | PASSWORD x
            USER bob                 | USER bob
            """)
    void masksPasswords(String line, String logged) {
        assertThat(LogText.escapeLine(line)).isEqualTo(logged);
    }

    @Property
    void outputIsAlwaysPrintable(@ForAll String anything) {
        assertThat(LogText.escape(anything).codePoints())
                .noneMatch(cp -> cp < 0x20 || cp == 0x7f || cp >= 0x80 && cp < 0xa0
                        || Character.getType(cp) == Character.FORMAT);
    }
}
