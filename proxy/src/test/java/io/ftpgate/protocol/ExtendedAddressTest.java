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
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ExtendedAddressTest {

    @ParameterizedTest(name = "[{0}]")
    @CsvSource(delimiter = ';', textBlock = """
            |1|132.235.1.2|6275|                        ; 132.235.1.2 ; 6275
            !1!132.235.1.2!6275!                        ; 132.235.1.2 ; 6275
            ~1~10.0.0.1~1~                              ; 10.0.0.1    ; 1
            #1#255.255.255.255#65535#                   ; 255.255.255.255 ; 65535
            |1|010.000.001.002|21|                      ; 10.0.1.2    ; 21
            |2|::1|5282|                                ; ::1         ; 5282
            |2|2001:db8::1|5282|                        ; 2001:db8::1 ; 5282
            |2|1080::8:800:200C:417A|5282|              ; 1080::8:800:200c:417a ; 5282
            |2|2001:0db8:0000:0000:0000:0000:0000:0001|21| ; 2001:db8::1 ; 21
            |2|FE80:0:0:0:0:0:0:1|21|                   ; fe80::1     ; 21
            |2|::192.0.2.1|21|                          ; ::c000:201  ; 21
            $2$::1$21$                                  ; ::1         ; 21
            |2|::|21|                                   ; ::          ; 21
            |2|1:2:3:4:5:6:7::|21|                      ; 1:2:3:4:5:6:7:0 ; 21
            |2|::2:3:4:5:6:7:8|21|                      ; 0:2:3:4:5:6:7:8 ; 21
            |2|1:2:3:4:5:6:1.2.3.4|21|                  ; 1:2:3:4:5:6:102:304 ; 21
            """)
    void parsesEprtArguments(String arg, String address, int port) throws Exception {
        ExtendedAddress parsed = ExtendedAddress.parseEprtArgument(arg.strip());
        assertThat(parsed.address()).isEqualTo(InetAddress.getByName(address));
        assertThat(parsed.port()).isEqualTo(port);
    }

    @Test
    void ipv4MappedLiteralIsAcceptedAsIs() throws FtpParseException {
        ExtendedAddress parsed = ExtendedAddress.parseEprtArgument("|2|::ffff:192.0.2.1|21|");
        // The JDK maps ::ffff:a.b.c.d to the IPv4 address; policy sees the real peer family.
        assertThat(parsed.address()).isInstanceOf(Inet4Address.class);
        assertThat(parsed.address().getHostAddress()).isEqualTo("192.0.2.1");
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = ';', quoteCharacter = '"', textBlock = """
            ""                               ; EMPTY
            " |1|1.2.3.4|21|"                ; BAD_DELIMITER
            "\u00a61\u00a61.2.3.4\u00a621\u00a6" ; BAD_DELIMITER
            |1|1.2.3.4|21                    ; BAD_DELIMITER
            |                                ; BAD_DELIMITER
            |1|1.2.3.4|21!                   ; BAD_DELIMITER
            |1|1.2.3.4|                      ; MISSING_FIELD
            |1|1.2.3.4|21|x|                 ; MISSING_FIELD
            |1||21|                          ; MISSING_FIELD
            ||1.2.3.4|21|                    ; MISSING_FIELD
            |1|1.2.3.4||                     ; MISSING_FIELD
            |3|1.2.3.4|21|                   ; UNSUPPORTED_PROTOCOL
            |0|1.2.3.4|21|                   ; UNSUPPORTED_PROTOCOL
            |01|1.2.3.4|21|                  ; UNSUPPORTED_PROTOCOL
            |ip|1.2.3.4|21|                  ; UNSUPPORTED_PROTOCOL
            |1|localhost|21|                 ; BAD_ADDRESS
            |1|example.com|21|               ; BAD_ADDRESS
            |2|localhost|21|                 ; BAD_ADDRESS
            |2|ip6-localhost|21|             ; BAD_ADDRESS
            |2|abc.de|21|                    ; BAD_ADDRESS
            |2|dead.beef|21|                 ; BAD_ADDRESS
            |2|fe80::1%eth0|21|              ; BAD_ADDRESS
            |2|[::1]|21|                     ; BAD_ADDRESS
            |2|1.2.3.4|21|                   ; BAD_ADDRESS
            |2|1:2:3:4:5:6:7:8:9|21|         ; BAD_ADDRESS
            |2|::g|21|                       ; BAD_ADDRESS
            |2|:::|21|                       ; BAD_ADDRESS
            |2|.:1|21|                       ; BAD_ADDRESS
            |2|.::1|21|                      ; BAD_ADDRESS
            |2|:1|21|                        ; BAD_ADDRESS
            |2|1::2:|21|                     ; BAD_ADDRESS
            |2|1::2::3|21|                   ; BAD_ADDRESS
            |2|1:2:3:4:5:6:7|21|             ; BAD_ADDRESS
            |2|1::2:3:4:5:6:7:8|21|          ; BAD_ADDRESS
            |2|12345::1|21|                  ; BAD_ADDRESS
            |2|::1.2.3|21|                   ; BAD_ADDRESS
            |2|::1.2.3.256|21|               ; BAD_ADDRESS
            |2|1.2.3.4::1|21|                ; BAD_ADDRESS
            |2|::１|21|                  ; BAD_ADDRESS
            |1|::1|21|                       ; BAD_ADDRESS
            |1|1.2.3|21|                     ; BAD_ADDRESS
            |1|1.2.3.4.5|21|                 ; BAD_ADDRESS
            |1|1.2.3.256|21|                 ; BAD_ADDRESS
            |1|1.2.3.-4|21|                  ; BAD_ADDRESS
            |1|1.2.3.0004|21|                ; BAD_ADDRESS
            |1|0x7f.0.0.1|21|                ; BAD_ADDRESS
            |1|2130706433|21|                ; BAD_ADDRESS
            |1| 1.2.3.4|21|                  ; BAD_ADDRESS
            |1|1.2.3.4|x|                    ; BAD_NUMBER
            |1|1.2.3.4|-21|                  ; BAD_NUMBER
            |1|1.2.3.4|0|                    ; OUT_OF_RANGE
            |1|1.2.3.4|65536|                ; OUT_OF_RANGE
            |1|1.2.3.4|99999999999999999999999999|   ; OUT_OF_RANGE
            """)
    void refusesBadEprtArguments(String arg, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class,
                () -> ExtendedAddress.parseEprtArgument(arg.equals("\"\"") ? "" : arg.stripTrailing()));
        assertThat(e.kind()).isEqualTo(kind);
        assertThat(e.getMessage()).isNotBlank();
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
            "Entering Extended Passive Mode (|||6446|)",
            "229 Entering Extended Passive Mode (|||6446|)",
            "Entering Extended Passive Mode (|||6446|).",
            "EPSV ok (!!!6446!)",
            "(|||6446|)",
    })
    void parsesExtendedPassiveReplies(String text) throws FtpParseException {
        assertThat(ExtendedAddress.parseExtendedPassiveReply(text)).isEqualTo(6446);
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = ';', quoteCharacter = '"', textBlock = """
            ""                                         ; MISSING_FIELD
            Entering Extended Passive Mode             ; MISSING_FIELD
            Entering Extended Passive Mode (|||6446)   ; BAD_DELIMITER
            Entering Extended Passive Mode (||6446|)   ; BAD_DELIMITER
            Entering Extended Passive Mode (|!|6446|)  ; BAD_DELIMITER
            Entering Extended Passive Mode (1116441)   ; BAD_DELIMITER
            Entering Extended Passive Mode (|||0000022|) ; BAD_NUMBER
            Entering Extended Passive Mode (|||06446|) ; BAD_NUMBER
            Entering Extended Passive Mode (||| 6446|) ; BAD_NUMBER
            Entering Extended Passive Mode (|||22|) (|||6446|) ; MISSING_FIELD
            Extended Passive (not this) mode (|||6446|) ok ; MISSING_FIELD
            (|||0|) then (|||6446|)                    ; MISSING_FIELD
            Entering Extended Passive Mode )(|||6446|) ; MISSING_FIELD
            Entering Extended Passive Mode (|||6446|   ; MISSING_FIELD
            Entering Extended Passive Mode (||||)      ; MISSING_FIELD
            Entering Extended Passive Mode (|||x|)     ; BAD_NUMBER
            Entering Extended Passive Mode (|||-1|)    ; BAD_NUMBER
            Entering Extended Passive Mode (|||0|)     ; OUT_OF_RANGE
            Entering Extended Passive Mode (|||65536|) ; OUT_OF_RANGE
            Entering Extended Passive Mode (|||123456789012345678901234567890|) ; OUT_OF_RANGE
            """)
    void refusesBadExtendedPassiveReplies(String text, FtpParseException.Kind kind) {
        FtpParseException e = catchThrowableOfType(FtpParseException.class,
                () -> ExtendedAddress.parseExtendedPassiveReply(text));
        assertThat(e.kind()).isEqualTo(kind);
    }

    @Test
    void formats() throws UnknownHostException {
        assertThat(new ExtendedAddress(InetAddress.getByName("132.235.1.2"), 6275).toEprtArgument())
                .isEqualTo("|1|132.235.1.2|6275|");
        assertThat(new ExtendedAddress(InetAddress.getByName("2001:db8::1"), 21).toEprtArgument())
                .isEqualTo("|2|2001:db8:0:0:0:0:0:1|21|");
        assertThat(new ExtendedAddress(Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 2), 21)
                .toEprtArgument()).isEqualTo("|2|fe80:0:0:0:0:0:0:1|21|");
        assertThat(ExtendedAddress.extendedPassiveReplyText(6446)).isEqualTo("Entering Extended Passive Mode (|||6446|)");
    }

    @Property
    void eprtRoundTripsIpv4(@ForAll("ipv4") InetAddress address, @ForAll @IntRange(min = 1, max = 65535) int port)
            throws FtpParseException {
        ExtendedAddress value = new ExtendedAddress(address, port);
        assertThat(ExtendedAddress.parseEprtArgument(value.toEprtArgument())).isEqualTo(value);
    }

    @Property
    void eprtRoundTripsIpv6(@ForAll("ipv6") InetAddress address, @ForAll @IntRange(min = 1, max = 65535) int port)
            throws FtpParseException {
        ExtendedAddress value = new ExtendedAddress(address, port);
        assertThat(ExtendedAddress.parseEprtArgument(value.toEprtArgument())).isEqualTo(value);
    }

    /** Compressed and mixed-case forms (RFC 4291 §2.2, RFC 5952) parse to the same bytes. */
    @Property
    void eprtParsesCompressedIpv6(@ForAll("ipv6WithZeroRuns") byte[] bytes, @ForAll boolean upper)
            throws FtpParseException {
        String text = compressed(bytes);
        text = upper ? text.toUpperCase(java.util.Locale.ROOT) : text;
        ExtendedAddress parsed = ExtendedAddress.parseEprtArgument("|2|" + text + "|21|");
        assertThat(parsed.address()).isEqualTo(address(bytes));
    }

    @Provide
    Arbitrary<byte[]> ipv6WithZeroRuns() {
        return Arbitraries.integers().between(0, 0xffff).injectDuplicates(0.0)
                .map(v -> v % 3 == 0 ? 0 : v).array(int[].class).ofSize(8)
                .map(groups -> {
                    byte[] bytes = new byte[16];
                    for (int i = 0; i < 8; i++) {
                        bytes[2 * i] = (byte) (groups[i] >> 8);
                        bytes[2 * i + 1] = (byte) groups[i];
                    }
                    return bytes;
                });
    }

    /** The longest run of zero groups (if any) becomes "::". */
    /** RFC 5952 text of an IPv6 address, as Netty formats it (a library, not a second copy of ours). */
    private static String compressed(byte[] bytes) {
        try {
            return io.netty.util.NetUtil.toAddressString(Inet6Address.getByAddress(null, bytes, null));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Property
    void extendedPassiveReplyRoundTrips(@ForAll @IntRange(min = 1, max = 65535) int port) throws FtpParseException {
        String text = ExtendedAddress.extendedPassiveReplyText(port);
        assertThat(ExtendedAddress.parseExtendedPassiveReply(text)).isEqualTo(port);
        assertThat(ExtendedAddress.parseExtendedPassiveReply(FtpReply.of(229, text).lines().get(0))).isEqualTo(port);
    }

    @Property
    void parsersThrowOnlyParseExceptions(@ForAll("eprtLike") String text) {
        try {
            ExtendedAddress.parseEprtArgument(text);
        } catch (FtpParseException expected) {
            assertThat(expected.kind()).isNotNull();
        }
        try {
            ExtendedAddress.parseExtendedPassiveReply(text);
        } catch (FtpParseException expected) {
            assertThat(expected.kind()).isNotNull();
        }
    }

    @Provide
    Arbitrary<InetAddress> ipv4() {
        return Arbitraries.bytes().array(byte[].class).ofSize(4).map(ExtendedAddressTest::address);
    }

    @Provide
    Arbitrary<InetAddress> ipv6() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16).map(ExtendedAddressTest::address);
    }

    @Provide
    Arbitrary<String> eprtLike() {
        Arbitrary<String> pieces = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(8),
                Arbitraries.of("|", "||", "(", ")", "1", "2", ":", ".", "::", "%", "[", "]", "localhost", "65535", "0"));
        return pieces.list().ofMaxSize(10).map(l -> String.join("", l));
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
