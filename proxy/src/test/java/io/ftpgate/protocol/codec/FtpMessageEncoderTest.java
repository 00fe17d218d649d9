package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FtpMessageEncoderTest {

    private static String encode(Object msg) {
        EmbeddedChannel channel = new EmbeddedChannel(FtpMessageEncoder.INSTANCE);
        assertThat(channel.writeOutbound(msg)).isTrue();
        ByteBuf buf = channel.readOutbound();
        try {
            return buf.toString(StandardCharsets.ISO_8859_1);
        } finally {
            buf.release();
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void writesCommandsWithCrlf() {
        assertThat(encode(FtpCommand.of("noop", ""))).isEqualTo("NOOP\r\n");
        assertThat(encode(FtpCommand.of("CWD", " caf\u00c3\u00a9 "))).isEqualTo("CWD  caf\u00c3\u00a9 \r\n");
    }

    @Test
    void writesReplies() {
        assertThat(encode(FtpReply.of(211, "a\nb"))).isEqualTo("211-a\r\n211 b\r\n");
    }

    @Test
    void escapesIacAsRfc854Requires() {
        EmbeddedChannel channel = new EmbeddedChannel(FtpMessageEncoder.INSTANCE);
        channel.writeOutbound(FtpCommand.of("CWD", "\u00ffx\u00ff"));
        ByteBuf buf = channel.readOutbound();
        assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("43574420" + "ffff" + "78" + "ffff" + "0d0a");
        buf.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void charsBeyondLatin1BecomeQuestionMarks() {
        assertThat(encode(FtpReply.of(200, "\u20ac"))).isEqualTo("200 ?\r\n");
    }

    @Test
    void passesOtherMessagesThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(FtpMessageEncoder.INSTANCE);
        channel.writeOutbound("not ours");
        assertThat((Object) channel.readOutbound()).isEqualTo("not ours");
        channel.finishAndReleaseAll();
    }

    @Test
    void isSharable() {
        assertThat(FtpMessageEncoder.INSTANCE.isSharable()).isTrue();
    }

    /** What the encoder writes, the decoders read back unchanged, whatever bytes the text holds. */
    @Property
    void commandsRoundTripThroughTheDecoders(@ForAll("verbs") String verb, @ForAll("latin1") String argument) {
        FtpCommand command = FtpCommand.of(verb, argument);
        List<Object> out = Feed.whole(() -> new ChannelHandler[] {new FtpLineDecoder(100, true), new FtpCommandDecoder()},
                Feed.bytes(encode(command)));
        assertThat(out).containsExactly(command);
    }

    @Property
    void repliesRoundTripThroughTheDecoders(@ForAll("latin1") String first, @ForAll("latin1") String last) {
        FtpReply reply = FtpReply.of(250, first + "\n" + last);
        List<Object> out = Feed.whole(() -> new ChannelHandler[] {new FtpLineDecoder(100, true), new FtpReplyDecoder(10)},
                Feed.bytes(encode(reply)));
        assertThat(out).containsExactly(reply);
    }

    @Provide
    Arbitrary<String> verbs() {
        return Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(3).ofMaxLength(4);
    }

    @Provide
    Arbitrary<String> latin1() {
        return Arbitraries.strings().withCharRange('\u0001', '\u00ff').excludeChars('\r', '\n').ofMaxLength(40);
    }
}
