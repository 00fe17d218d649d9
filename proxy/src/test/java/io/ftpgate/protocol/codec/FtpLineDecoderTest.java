package io.ftpgate.protocol.codec;

import io.netty.channel.ChannelHandler;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.ftpgate.protocol.codec.Feed.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class FtpLineDecoderTest {

    private static final LineError.Kind TOO_LONG = LineError.Kind.TOO_LONG;
    private static final LineError.Kind NUL = LineError.Kind.NUL;
    private static final LineError.Kind BARE_LF = LineError.Kind.BARE_LF;

    static Supplier<ChannelHandler[]> lines(int max, boolean strict) {
        return () -> new ChannelHandler[] {new FtpLineDecoder(max, strict)};
    }

    /** name, max length, strict, input (ISO-8859-1), expected: Strings, or LineError.Kind for errors */
    static Stream<Arguments> cases() {
        return Stream.of(
                arguments("two lines", 20, true, "USER a\r\nPASS b\r\n", List.of("USER a", "PASS b")),
                arguments("empty line", 20, true, "\r\n", List.of("")),
                arguments("partial line waits", 20, true, "USER a\r\nNOO", List.of("USER a")),
                arguments("CR waits for LF", 20, true, "NOOP\r", List.of()),
                arguments("UTF-8 bytes pass", 20, true, "CWD caf\u00c3\u00a9\r\n", List.of("CWD caf\u00c3\u00a9")),
                arguments("exactly max", 4, true, "NOOP\r\n", List.of("NOOP")),
                arguments("too long, then good", 4, true, "NOOPX\r\nPWD\r\n", List.of(TOO_LONG, "PWD")),
                arguments("too long reported once", 4, true, "AAAAAAAAAAAAAAAAAAAA\r\nPWD\r\n", List.of(TOO_LONG, "PWD")),
                arguments("too long, bare LF ends discard", 4, true, "AAAAAAAA\nPWD\r\n", List.of(TOO_LONG, "PWD")),
                arguments("too long across many lines of junk", 3, false, "ABCDEFG\nAB\n", List.of(TOO_LONG, "AB")),
                arguments("NUL", 20, true, "US\u0000ER a\r\nPWD\r\n", List.of(NUL, "PWD")),
                arguments("bare LF strict", 20, true, "USER a\nPWD\r\n", List.of(BARE_LF, "PWD")),
                arguments("bare LF lenient", 20, false, "USER a\nPWD\r\n", List.of("USER a", "PWD")),
                arguments("stray CR kept as text", 20, true, "USER a\rb\r\n", List.of("USER a\rb")),
                arguments("CR CR LF", 20, true, "NOOP\r\r\n", List.of("NOOP\r")),
                arguments("IAC IAC is 0xFF", 20, true, "CWD \u00ff\u00ffx\r\n", List.of("CWD \u00ffx")),
                arguments("IAC IP IAC DM (abort sequence)", 20, true, "\u00ff\u00f4\u00ff\u00f2ABOR\r\n", List.of("ABOR")),
                arguments("IAC AYT dropped", 20, true, "NO\u00ff\u00f6OP\r\n", List.of("NOOP")),
                arguments("IAC WILL option dropped", 20, true, "\u00ff\u00fb\u0001NOOP\r\n", List.of("NOOP")),
                arguments("IAC DO LF: option byte is not a line end", 20, true, "NO\u00ff\u00fd\nOP\r\n", List.of("NOOP")),
                arguments("IAC DONT IAC: option byte is not data", 20, true, "\u00ff\u00fe\u00ffNOOP\r\n", List.of("NOOP")),
                arguments("lone IAC before a letter", 20, true, "\u00ffNOOP\r\n", List.of("NOOP")),
                arguments("IAC IAC counts as one byte toward max", 2, true, "\u00ff\u00ff\u00ff\u00ff\r\n", List.of("\u00ff\u00ff")),
                arguments("IAC between CR and LF", 20, true, "NOOP\r\u00ff\u00f1\n", List.of("NOOP")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void frames(String name, int max, boolean strict, String input, List<Object> expected) {
        List<Object> out = Feed.whole(lines(max, strict), bytes(input));
        assertThat(out).map(FtpLineDecoderTest::simplify).isEqualTo(expected);
    }

    /** The chunked twin: the same bytes one at a time give the same messages. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void framesByteByByte(String name, int max, boolean strict, String input, List<Object> expected) {
        byte[] bytes = bytes(input);
        assertThat(Feed.byteByByte(lines(max, strict), bytes)).isEqualTo(Feed.whole(lines(max, strict), bytes));
    }

    @Property
    void anySplitGivesTheSameMessages(@ForAll("wire") String input, @ForAll("cuts") int[] cuts,
                                      @ForAll boolean strict) {
        byte[] bytes = bytes(input);
        assertThat(Feed.split(lines(8, strict), bytes, cuts)).isEqualTo(Feed.whole(lines(8, strict), bytes));
    }

    @Property
    void neverEmitsALineLongerThanTheLimit(@ForAll("wire") String input) {
        for (Object msg : Feed.whole(lines(8, false), bytes(input))) {
            if (msg instanceof String line) {
                assertThat(line.length()).isLessThanOrEqualTo(8);
                assertThat(line).doesNotContain("\n", "\u0000");
            }
        }
    }

    @Provide
    Arbitrary<String> wire() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('A', 'Z').ofMaxLength(12),
                Arbitraries.of("\r\n", "\n", "\r", "\u0000", "\u00ff", "\u00ff\u00ff", "\u00ff\u00f4", "\u00ff\u00fd",
                        "\u00ff\u00fb\u0001", " "));
        return piece.list().ofMaxSize(20).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<int[]> cuts() {
        return Arbitraries.integers().between(0, 200).array(int[].class).ofMaxSize(30);
    }

    private static Object simplify(Object msg) {
        return msg instanceof LineError error ? error.kind() : msg;
    }
}
