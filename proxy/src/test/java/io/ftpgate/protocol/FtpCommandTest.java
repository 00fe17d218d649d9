package io.ftpgate.protocol;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class FtpCommandTest {

    @ParameterizedTest(name = "[{0}] -> {1} [{2}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            USER anonymous        | USER | anonymous
            user anonymous        | USER | anonymous
            NoOp                  | NOOP | ""
            PWD                   | PWD  | ""
            "CWD  two  spaces  "  | CWD  | " two  spaces  "
            "NOOP "               | NOOP | ""
            STOR file name.txt    | STOR | file name.txt
            "RETR caf\u00c3\u00a9"| RETR | "caf\u00c3\u00a9"
            PORT 1,2,3,4,5,6      | PORT | 1,2,3,4,5,6
            "PASS  secret "       | PASS | " secret "
            """)
    void parsesVerbAndRawArgument(String line, String verb, String argument) throws FtpParseException {
        FtpCommand command = FtpCommand.parse(line);
        assertThat(command.verb()).isEqualTo(verb);
        assertThat(command.argument()).isEqualTo(argument);
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ""                | EMPTY
            "   "             | EMPTY
            " USER x"         | BAD_VERB
            US                | BAD_VERB
            USERS x           | BAD_VERB
            US3R x            | BAD_VERB
            "US\u00c9R x"     | BAD_VERB
            "USER\tx"         | BAD_VERB
            "\u0000\u0000\u0000" | BAD_VERB
            "USER a\rb"       | BAD_DELIMITER
            "USER a\nb"       | BAD_DELIMITER
            """)
    void refusesBadLines(String line, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> FtpCommand.parse(line));
        assertThat(e.kind()).isEqualTo(kind);
        assertThat(e.getMessage()).doesNotContain("\r", "\n", "\u0000", "\t");
    }

    @Test
    void formatsLines() {
        assertThat(FtpCommand.of("noop", null).toLine()).isEqualTo("NOOP");
        assertThat(FtpCommand.of("noop", "").toLine()).isEqualTo("NOOP");
        assertThat(FtpCommand.of("cwd", " a b ").toLine()).isEqualTo("CWD  a b ");
        assertThat(FtpCommand.of("EPSV", "ALL").is("epsv")).isTrue();
        assertThat(FtpCommand.of("EPSV", "ALL").is("EPRT")).isFalse();
    }

    @Test
    void constructorRefusesWhatCouldSplitALine() {
        assertThatIllegalArgumentException().isThrownBy(() -> FtpCommand.of("CWD", "a\r\nDELE b"));
        assertThatIllegalArgumentException().isThrownBy(() -> FtpCommand.of("C D", "x"));
        assertThatThrownBy(() -> FtpCommand.of(null, "x")).isInstanceOf(NullPointerException.class);
    }

    @ParameterizedTest(name = "[{0}] logs as [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            PASS secret           | PASS ****
            pass secret           | PASS ****
            PASS                  | PASS
            "USER a\u0001b"       | USER a\\x01b
            "USER a\u001b[31m"    | USER a\\x1b[31m
            "CWD a\\b"            | CWD a\\\\b
            "CWD caf\u00c3\u00a9" | "CWD caf\u00e9"
            "CWD \u00e9\u00ff"    | CWD \\xe9\\xff
            "CWD \u00e2\u0080\u00ae" | CWD \\x{202e}
            """)
    void logStringMasksPasswordsAndEscapesControls(String line, String logged) throws FtpParseException {
        assertThat(FtpCommand.parse(line).toLogString()).isEqualTo(logged);
    }

    @Property
    void parseThrowsOnlyParseExceptions(@ForAll String line) {
        try {
            FtpCommand command = FtpCommand.parse(line);
            assertThat(line).startsWithIgnoringCase(command.verb());
        } catch (FtpParseException expected) {
            assertThat(expected.kind()).isNotNull();
        }
    }

    @Property
    void parseRoundTripsArgumentsByteForByte(@ForAll("verbs") String verb, @ForAll("latin1") String argument)
            throws FtpParseException {
        FtpCommand command = FtpCommand.parse(verb + " " + argument);
        assertThat(command.argument()).isEqualTo(argument);
        assertThat(FtpCommand.parse(command.toLine())).isEqualTo(command);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> verbs() {
        return net.jqwik.api.Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').ofMinLength(3).ofMaxLength(4);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> latin1() {
        return net.jqwik.api.Arbitraries.strings().withCharRange('\u0000', '\u00ff').excludeChars('\r', '\n')
                .ofMinLength(1).ofMaxLength(40);
    }
}
