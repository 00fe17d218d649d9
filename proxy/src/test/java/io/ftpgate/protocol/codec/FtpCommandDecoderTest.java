package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpCommand;
import io.netty.channel.ChannelHandler;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static io.ftpgate.protocol.codec.Feed.bytes;
import static org.assertj.core.api.Assertions.assertThat;

class FtpCommandDecoderTest {

    private static final Supplier<ChannelHandler[]> CLIENT_LEG =
            () -> new ChannelHandler[] {new FtpLineDecoder(32, true), new FtpCommandDecoder()};

    private static final String SESSION = "user anonymous\r\nPASS  s3cret \r\nCWD /caf\u00c3\u00a9 dir \r\n"
            + "123 not a verb\r\nPASS x\ry\r\nNO\u0000OP\r\n"
            + "STOR " + "x".repeat(40) + "\r\nLIST\nPORT 1,2,3,4,5,6\r\n\u00ff\u00f4\u00ff\u00f2ABOR\r\n";

    @Test
    void decodesASession() {
        List<Object> out = Feed.whole(CLIENT_LEG, bytes(SESSION));
        assertThat(out).hasSize(10);
        assertThat(out.get(0)).isEqualTo(FtpCommand.of("USER", "anonymous"));
        assertThat(out.get(1)).isEqualTo(FtpCommand.of("PASS", " s3cret "));
        assertThat(out.get(2)).isEqualTo(FtpCommand.of("CWD", "/caf\u00c3\u00a9 dir "));
        assertThat(out.get(3)).isEqualTo("BadCommand[123 not a verb, BAD_VERB]");
        assertThat(out.get(4)).isEqualTo("BadCommand[PASS ****, BAD_DELIMITER]");
        assertThat(out.get(5)).isInstanceOfSatisfying(LineError.class, e -> {
            assertThat(e.kind()).isEqualTo(LineError.Kind.NUL);
            assertThat(e.detail()).contains("NO\\x00OP");
        });
        assertThat(out.get(6)).isInstanceOfSatisfying(LineError.class,
                e -> assertThat(e.kind()).isEqualTo(LineError.Kind.TOO_LONG));
        assertThat(out.get(7)).isInstanceOfSatisfying(LineError.class,
                e -> assertThat(e.kind()).isEqualTo(LineError.Kind.BARE_LF));
        assertThat(out.get(8)).isEqualTo(FtpCommand.of("PORT", "1,2,3,4,5,6"));
        assertThat(out.get(9)).isEqualTo(FtpCommand.of("ABOR", ""));
    }

    @Test
    void decodesASessionByteByByte() {
        assertThat(Feed.byteByByte(CLIENT_LEG, bytes(SESSION))).isEqualTo(Feed.whole(CLIENT_LEG, bytes(SESSION)));
    }

    @Test
    void lineErrorsNeverCarryAPassword() {
        List<Object> out = Feed.whole(CLIENT_LEG, bytes("PASS secret\nPASS " + "s".repeat(40) + "\r\n"));
        assertThat(out).hasSize(2).allSatisfy(msg -> assertThat(((LineError) msg).detail()).doesNotContain("secret", "sss"));
    }

    @Property
    void anySplitGivesTheSameMessages(@ForAll("cuts") int[] cuts) {
        byte[] bytes = bytes(SESSION);
        assertThat(Feed.split(CLIENT_LEG, bytes, cuts)).isEqualTo(Feed.whole(CLIENT_LEG, bytes));
    }

    @Provide
    Arbitrary<int[]> cuts() {
        return Arbitraries.integers().between(0, SESSION.length()).array(int[].class).ofMaxSize(40);
    }
}
