package io.ftpgate.protocol;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ReplyAssemblerTest {

    private final ReplyAssembler assembler = new ReplyAssembler(10);

    @ParameterizedTest(name = "[{0}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            220 ready          | 220 | ready
            200                | 200 | ""
            "200 "             | 200 | ""
            100 go             | 100 | go
            599 odd but legal  | 599 | odd but legal
            """)
    void singleLineReplies(String line, int code, String text) throws FtpParseException {
        FtpReply reply = assembler.accept(line).orElseThrow();
        assertThat(reply.code()).isEqualTo(code);
        assertThat(reply.text()).isEqualTo(text);
        assertThat(reply.lines()).containsExactly(line);
        assertThat(assembler.isOpen()).isFalse();
    }

    @Test
    void multiLineRunsToTheSameCodeWithSpace() throws FtpParseException {
        assertThat(assembler.accept("230-Welcome")).isEmpty();
        assertThat(assembler.accept("220 other code is text")).isEmpty();
        assertThat(assembler.accept("230-still open")).isEmpty();
        assertThat(assembler.accept("  indented")).isEmpty();
        assertThat(assembler.accept("")).isEmpty();
        assertThat(assembler.accept("2301 not the end")).isEmpty();
        assertThat(assembler.isOpen()).isTrue();
        FtpReply reply = assembler.accept("230 Logged in").orElseThrow();
        assertThat(reply.code()).isEqualTo(230);
        assertThat(reply.lines()).hasSize(7).first().isEqualTo("230-Welcome");
        assertThat(reply.text()).isEqualTo("Welcome");
        assertThat(assembler.accept("200 next")).map(FtpReply::code).contains(200);
    }

    @Test
    void bareCodeEndsAMultiLineReply() throws FtpParseException {
        assembler.accept("211-Features");
        assertThat(assembler.accept("211")).map(FtpReply::lines).contains(List.of("211-Features", "211"));
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ""              | NOT_A_REPLY
            hello           | NOT_A_REPLY
            22              | NOT_A_REPLY
            2200 x          | NOT_A_REPLY
            220x            | NOT_A_REPLY
            " 220 x"        | NOT_A_REPLY
            "\u0662\u0662\u0660 arabic digits" | NOT_A_REPLY
            099 low         | OUT_OF_RANGE
            000             | OUT_OF_RANGE
            600 high        | OUT_OF_RANGE
            999-high        | OUT_OF_RANGE
            "220 a\rb"      | BAD_DELIMITER
            """)
    void refusesLinesThatCannotStartAReply(String line, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> assembler.accept(line));
        assertThat(e.kind()).isEqualTo(kind);
        assertThat(assembler.isOpen()).isFalse();
    }

    @Test
    void tooManyLinesDropsTheReplyAndStartsOver() throws FtpParseException {
        ReplyAssembler small = new ReplyAssembler(3);
        small.accept("220-one");
        small.accept("two");
        small.accept("three");
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> small.accept("220 four"));
        assertThat(e.kind()).isEqualTo(FtpParseException.Kind.TOO_MANY_LINES);
        assertThat(small.isOpen()).isFalse();
        assertThat(small.accept("220 ok")).isPresent();
    }

    @Test
    void exactlyMaxLinesIsFine() throws FtpParseException {
        ReplyAssembler small = new ReplyAssembler(3);
        small.accept("220-one");
        small.accept("two");
        assertThat(small.accept("220 three")).isPresent();
    }

    @Test
    void oneLineLimitRefusesMultiLineStart() throws FtpParseException {
        ReplyAssembler one = new ReplyAssembler(1);
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> one.accept("220-a"));
        assertThat(e.kind()).isEqualTo(FtpParseException.Kind.TOO_MANY_LINES);
        assertThat(one.accept("220 a")).isPresent();
    }

    /** FtpReply.of → toWire → lines → ReplyAssembler gives the same reply back. */
    @Property
    void formattedRepliesAssembleBackUnchanged(@ForAll @IntRange(min = 100, max = 599) int code,
                                               @ForAll("replyTexts") String text) throws FtpParseException {
        FtpReply reply = FtpReply.of(code, text);
        String wire = reply.toWire();
        assertThat(wire).endsWith("\r\n");
        String[] lines = wire.substring(0, wire.length() - 2).split("\r\n", -1);
        ReplyAssembler fresh = new ReplyAssembler(1000);
        List<Optional<FtpReply>> results = new ArrayList<>();
        for (String line : lines) {
            results.add(fresh.accept(line));
        }
        assertThat(results.subList(0, results.size() - 1)).allMatch(Optional::isEmpty);
        assertThat(results.get(results.size() - 1)).contains(reply);
    }

    @Provide
    Arbitrary<String> replyTexts() {
        // Lines that often look like reply codes, including the reply's own.
        Arbitrary<String> line = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').excludeChars('\r', '\n').ofMaxLength(20),
                Arbitraries.of("200", "200 x", "200-x", "331 ", "150", " 200 x", ""),
                Arbitraries.integers().between(100, 599).map(c -> c + (c % 2 == 0 ? " end?" : "")));
        return line.list().ofMinSize(1).ofMaxSize(8).map(l -> String.join("\n", l));
    }

    @Property
    void acceptThrowsOnlyParseExceptions(@ForAll("anyLines") List<String> lines) {
        ReplyAssembler fresh = new ReplyAssembler(5);
        for (String line : lines) {
            try {
                fresh.accept(line);
            } catch (FtpParseException expected) {
                assertThat(expected.kind()).isNotNull();
            }
        }
    }

    @Provide
    Arbitrary<List<String>> anyLines() {
        return Arbitraries.oneOf(Arbitraries.strings(), Arbitraries.of("220-a", "220 b", "220", "5", "331-x"))
                .list().ofMaxSize(12);
    }
}
