package io.ftpgate.protocol;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class HostPortTest {

    private static final HostPort EXAMPLE = new HostPort(HostPort.ipv4(192, 168, 1, 2), 19 * 256 + 137);

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
            "192,168,1,2,19,137",
            " 192 , 168 ,1,2,19, 137 ",
            "192,168,001,2,019,137",
    })
    void parsesPortArguments(String arg) throws FtpParseException {
        assertThat(HostPort.parsePortArgument(arg)).isEqualTo(EXAMPLE);
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ""                           | EMPTY
            "   "                        | EMPTY
            192,168,1,2,19               | MISSING_FIELD
            192,168,1,2,19,137,1         | MISSING_FIELD
            192,168,,2,19,137            | MISSING_FIELD
            "192,168, ,2,19,137"         | MISSING_FIELD
            192.168.1.2.19.137           | MISSING_FIELD
            192,168,1,2,19,x             | BAD_NUMBER
            192,168,1,-2,19,137          | BAD_NUMBER
            192,168,1,+2,19,137          | BAD_NUMBER
            192,168,1,0x2,19,137         | BAD_NUMBER
            "192,168,1,\u0662,19,137"    | BAD_NUMBER
            192,168,1,2 3,19,137         | BAD_NUMBER
            192,168,1,256,19,137         | OUT_OF_RANGE
            192,168,1,2,19,99999999999999999999999 | OUT_OF_RANGE
            192,168,1,2,0,0              | OUT_OF_RANGE
            """)
    void refusesBadPortArguments(String arg, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> HostPort.parsePortArgument(arg));
        assertThat(e.kind()).isEqualTo(kind);
        assertThat(e.getMessage()).isNotBlank();
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
            "Entering Passive Mode (192,168,1,2,19,137).",
            "Entering Passive Mode (192,168,1,2,19,137)",
            "Entering Passive Mode 192,168,1,2,19,137",
            "=192,168,1,2,19,137",
            "Passive (192,168,1,2,19,137)",
            "Entering Passive Mode ( 192, 168, 1, 2, 19, 137 ).",
            "Entering  Passive  Mode  (192 ,168 ,1 ,2 ,19 ,137)",
            "227 Entering Passive Mode (192,168,1,2,19,137).",
            "Entering Passive Mode (192,168,1,2,19,137,4).",
            "v2.0 says (1,2,3) then 192,168,1,2,19,137",
            "(300,1,1,1,1,1) bogus first, then 192,168,1,2,19,137",
    })
    void parsesRealWorldPassiveReplies(String text) throws FtpParseException {
        assertThat(HostPort.parsePassiveReply(text)).isEqualTo(EXAMPLE);
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ""                                          | MISSING_FIELD
            Entering Passive Mode                       | MISSING_FIELD
            Entering Passive Mode (192,168,1,2,19)      | MISSING_FIELD
            "Entering Passive Mode (192,168,1,2,19,)"   | MISSING_FIELD
            Entering Passive Mode (192,168,1,2,19,-137) | MISSING_FIELD
            Entering Passive Mode (192,168,1,256,19,137) | OUT_OF_RANGE
            Entering Passive Mode (192,168,1,2,0,0)     | OUT_OF_RANGE
            Entering Passive Mode (1,1,1,1,1,1111111111111111111111111) | OUT_OF_RANGE
            """)
    void refusesPassiveRepliesWithoutAnAddress(String text, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class, () -> HostPort.parsePassiveReply(text));
        assertThat(e.kind()).isEqualTo(kind);
    }

    @Test
    void formats() {
        assertThat(EXAMPLE.toPortArgument()).isEqualTo("192,168,1,2,19,137");
        assertThat(EXAMPLE.toPassiveReplyText()).isEqualTo("Entering Passive Mode (192,168,1,2,19,137).");
        assertThat(new HostPort(HostPort.ipv4(255, 0, 0, 1), 65535).toPortArgument()).isEqualTo("255,0,0,1,255,255");
    }

    @Property
    void portArgumentRoundTrips(@ForAll("hostPorts") HostPort hostPort) throws FtpParseException {
        assertThat(HostPort.parsePortArgument(hostPort.toPortArgument())).isEqualTo(hostPort);
    }

    @Property
    void passiveReplyRoundTrips(@ForAll("hostPorts") HostPort hostPort) throws FtpParseException {
        assertThat(HostPort.parsePassiveReply(hostPort.toPassiveReplyText())).isEqualTo(hostPort);
        assertThat(HostPort.parsePassiveReply(FtpReply.of(227, hostPort.toPassiveReplyText()).lines().get(0)))
                .isEqualTo(hostPort);
    }

    @Provide
    Arbitrary<HostPort> hostPorts() {
        Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255);
        return Combinators.combine(octet, octet, octet, octet, Arbitraries.integers().between(1, 65535))
                .as((a, b, c, d, port) -> new HostPort(HostPort.ipv4(a, b, c, d), port));
    }

    @Property
    void parsersThrowOnlyParseExceptions(@ForAll String text) {
        try {
            HostPort.parsePortArgument(text);
        } catch (FtpParseException expected) {
            assertThat(expected.kind()).isNotNull();
        }
        try {
            HostPort.parsePassiveReply(text);
        } catch (FtpParseException expected) {
            assertThat(expected.kind()).isNotNull();
        }
    }
}
