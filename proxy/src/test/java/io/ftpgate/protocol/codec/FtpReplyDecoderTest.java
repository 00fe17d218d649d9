package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpReply;
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

class FtpReplyDecoderTest {

    private static final Supplier<ChannelHandler[]> SERVER_LEG =
            () -> new ChannelHandler[] {new FtpLineDecoder(64, false), new FtpReplyDecoder(4)};

    private static final String REPLIES = "220-Welcome\r\n220 not yet? no: this ends it\r\n"
            + "230-Hello\r\n150 text inside\r\n  \r\n230 done\r\n"
            + "hello\r\n"
            + "211-one\r\ntwo\r\nthree\r\nfour\r\n211 five\r\n"
            + "227 Entering Passive Mode (192,168,1,2,19,137).\n"
            + "200\r\n"
            + "331 " + "p".repeat(80) + "\r\n"
            + "250 caf\u00c3\u00a9 \u00ff\u00ff\r\n";

    @Test
    void decodesReplies() {
        List<Object> out = Feed.whole(SERVER_LEG, bytes(REPLIES));
        assertThat(out).containsExactly(
                new FtpReply(220, List.of("220-Welcome", "220 not yet? no: this ends it")),
                new FtpReply(230, List.of("230-Hello", "150 text inside", "  ", "230 done")),
                "BadReply[hello, NOT_A_REPLY]",
                "BadReply[211 five, TOO_MANY_LINES]",
                FtpReply.of(227, "Entering Passive Mode (192,168,1,2,19,137)."),
                new FtpReply(200, List.of("200")),
                new LineError(LineError.Kind.TOO_LONG, ((LineError) out.get(6)).detail()),
                FtpReply.of(250, "caf\u00c3\u00a9 \u00ff"));
    }

    @Test
    void decodesRepliesByteByByte() {
        assertThat(Feed.byteByByte(SERVER_LEG, bytes(REPLIES))).isEqualTo(Feed.whole(SERVER_LEG, bytes(REPLIES)));
    }

    @Property
    void anySplitGivesTheSameMessages(@ForAll("cuts") int[] cuts) {
        byte[] bytes = bytes(REPLIES);
        assertThat(Feed.split(SERVER_LEG, bytes, cuts)).isEqualTo(Feed.whole(SERVER_LEG, bytes));
    }

    @Provide
    Arbitrary<int[]> cuts() {
        return Arbitraries.integers().between(0, REPLIES.length()).array(int[].class).ofMaxSize(40);
    }
}
