package io.ftpgate.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header of a data connection: the peer it names, and what followed it in the same
 * segment reaching the new owner's first handler (TLS is put first), whole and in order, also when
 * the header comes in pieces; garbage, silence and LOCAL end it.
 */
class DataProxyHeaderHandlerTest {
    private static final byte[] PAYLOAD = "first bytes of an upload".getBytes(StandardCharsets.US_ASCII);

    /** What the handler reported, and the handler to hand over with. */
    private static final class Recorder implements DataProxyHeaderHandler.Outcome {
        final List<String> events = new ArrayList<>();
        DataProxyHeaderHandler handler;
        InetSocketAddress source;

        @Override
        public void header(DataProxyHeaderHandler h, Channel ch, InetSocketAddress s) {
            handler = h;
            source = s;
            events.add("header " + (s == null ? "-" : s.getAddress().getHostAddress() + ":" + s.getPort()));
        }

        @Override
        public void failed(Channel ch, ProxyHeaderOutcome outcome, String why) {
            events.add(outcome.name());
        }
    }

    /** Collects the bytes that reach it. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            bytes.writeBytes(a);
        }
    }

    private static EmbeddedChannel channel(Recorder r) {
        return new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                DataProxyHeaderHandler.install(ch, Duration.ofSeconds(3), r);
            }
        });
    }

    private static byte[] v2(HAProxyCommand command, String source) {
        EmbeddedChannel enc = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        enc.writeOutbound(command == HAProxyCommand.LOCAL
                ? new HAProxyMessage(HAProxyProtocolVersion.V2, command, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0)
                : new HAProxyMessage(HAProxyProtocolVersion.V2, command, HAProxyProxiedProtocol.TCP4, source, "192.0.2.2", 50000, 40001));
        ByteBuf b = enc.readOutbound();
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        b.release();
        enc.finishAndReleaseAll();
        return a;
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] r = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }

    /** The owner puts a stand-in for TLS first and the relay's stand-in last, as DataTransfer does. */
    private static Sink handOver(EmbeddedChannel ch, Recorder r) {
        Sink first = new Sink();
        r.handler.handOver(ch, () -> ch.pipeline().addFirst("tls", first));
        assertThat(ch.pipeline().get(DataProxyHeaderHandler.DECODER)).isNull();
        assertThat(ch.pipeline().get(DataProxyHeaderHandler.class)).isNull();
        return first;
    }

    @Test
    void theHeaderNamesThePeerAndTheBytesAfterItInTheSameSegmentReachTheNewOwnerFirstHandler() {
        Recorder r = new Recorder();
        EmbeddedChannel ch = channel(r);
        ch.writeInbound(Unpooled.wrappedBuffer(concat(v2(HAProxyCommand.PROXY, "198.51.100.7"), PAYLOAD)));
        assertThat(r.events).containsExactly("header 198.51.100.7:50000");
        Sink first = handOver(ch, r);
        assertThat(first.bytes.toByteArray()).isEqualTo(PAYLOAD);
        assertThat(ch.isOpen()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void chunked_aHeaderInPiecesAndBytesArrivingBeforeTheHandOverAreKeptInOrder() {
        Recorder r = new Recorder();
        EmbeddedChannel ch = channel(r);
        byte[] all = concat(v2(HAProxyCommand.PROXY, "198.51.100.7"), PAYLOAD);
        for (int i = 0; i < all.length; i += 5) {
            ch.writeInbound(Unpooled.wrappedBuffer(all, i, Math.min(5, all.length - i)));
        }
        assertThat(r.events).containsExactly("header 198.51.100.7:50000");
        Sink first = handOver(ch, r);
        assertThat(first.bytes.toByteArray()).isEqualTo(PAYLOAD);
        ch.writeInbound(Unpooled.wrappedBuffer("more".getBytes(StandardCharsets.US_ASCII)));
        assertThat(first.bytes.toString(StandardCharsets.US_ASCII)).endsWith("upload" + "more");
        ch.finishAndReleaseAll();
    }

    @Test
    void aLocalHeaderNamesNobody() {
        Recorder r = new Recorder();
        EmbeddedChannel ch = channel(r);
        ch.writeInbound(Unpooled.wrappedBuffer(v2(HAProxyCommand.LOCAL, null)));
        assertThat(r.events).containsExactly("header -");
        assertThat(r.source).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void garbageIsInvalidAndClosesTheConnection() {
        Recorder r = new Recorder();
        EmbeddedChannel ch = channel(r);
        ch.writeInbound(Unpooled.wrappedBuffer("STOR x\r\nGARBAGE GARBAGE\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(r.events).containsExactly("INVALID");
        assertThat(ch.isOpen()).isFalse();
        assertThat(ch.outboundMessages()).as("nothing sent").isEmpty();
    }

    @Test
    void silenceEndsAtTheHeaderTimeout() {
        Recorder r = new Recorder();
        EmbeddedChannel ch = channel(r);
        ch.advanceTimeBy(2900, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(r.events).containsExactly("TIMEOUT");
        assertThat(ch.isOpen()).isFalse();
    }
}
