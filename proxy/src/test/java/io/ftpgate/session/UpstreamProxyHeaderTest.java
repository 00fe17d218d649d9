package io.ftpgate.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.config.UpstreamProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The header {@link UpstreamProxyHeader} builds, as Netty's encoder writes it, and its place on the
 * server leg of a session ({@link SessionHarness}): the first bytes, before the server's greeting is
 * relayed and before any command; once only; none with the setting off.
 */
class UpstreamProxyHeaderTest {

    private static byte[] encoded(HAProxyMessage m) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(m);
        ByteBuf b = ch.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    private static HAProxyMessage decoded(byte[] bytes) {
        EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        HAProxyMessage m = ch.readInbound();
        ch.finishAndReleaseAll();
        return m;
    }

    @Test
    void v1IsTheSpecificationsTextLine() {
        HAProxyMessage m = UpstreamProxyHeader.message(UpstreamProxyProtocol.V1,
                new InetSocketAddress("198.51.100.7", 40001), new InetSocketAddress("192.0.2.1", 21));
        assertThat(new String(encoded(m), StandardCharsets.US_ASCII))
                .isEqualTo("PROXY TCP4 198.51.100.7 192.0.2.1 40001 21\r\n");
    }

    @Test
    void ipv4MappedAddressesOfADualStackListenerAreTcp4() {
        HAProxyMessage m = decoded(encoded(UpstreamProxyHeader.message(UpstreamProxyProtocol.V2,
                new InetSocketAddress("::ffff:198.51.100.7", 40001), new InetSocketAddress("::ffff:192.0.2.1", 21))));
        try {
            assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
            assertThat(m.sourceAddress()).isEqualTo("198.51.100.7");
            assertThat(m.destinationAddress()).isEqualTo("192.0.2.1");
        } finally {
            m.release();
        }
    }

    @Test
    void ipv6IsTcp6AndAnIpv4AddressBesideIpv6IsWrittenMapped() {
        HAProxyMessage six = decoded(encoded(UpstreamProxyHeader.message(UpstreamProxyProtocol.V2,
                new InetSocketAddress("2001:db8:1::7", 40002), new InetSocketAddress("2001:db8:1::1", 21))));
        HAProxyMessage mixed = decoded(encoded(UpstreamProxyHeader.message(UpstreamProxyProtocol.V2,
                new InetSocketAddress("198.51.100.7", 40003), new InetSocketAddress("2001:db8:1::1", 21))));
        try {
            assertThat(six.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(six.sourceAddress()).isEqualTo("2001:db8:1:0:0:0:0:7");
            assertThat(six.sourcePort()).isEqualTo(40002);
            assertThat(mixed.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(mixed.sourceAddress()).isEqualTo("0:0:0:0:0:ffff:c633:6407");
        } finally {
            six.release();
            mixed.release();
        }
    }

    @Test
    void theHeaderIsTheServerLegsFirstBytesAndSentOnce() throws Exception {
        try (SessionHarness h = new SessionHarness(Map.of("ftpgate.listeners.test.upstream-proxy-protocol", "v1"))) {
            h.runTasks();
            assertThat(h.serverReads()).isEqualTo("PROXY TCP4 " + SessionHarness.CLIENT.getAddress().getHostAddress() + " "
                    + SessionHarness.GATEWAY.getAddress().getHostAddress() + " " + SessionHarness.CLIENT.getPort() + " "
                    + SessionHarness.GATEWAY.getPort() + "\r\n");
            h.serverSends("220 ready\r\n");
            assertThat(h.clientReads()).isEqualTo("220 ready\r\n");
            h.clientSends("USER anonymous\r\n");
            assertThat(h.serverReads()).isEqualTo("USER anonymous\r\n");
            assertThat(h.server.pipeline().names()).as("the encoder and the sender are gone")
                    .doesNotContain(PipelineNames.PROXY_SEND, PipelineNames.PROXY_SEND_ENCODE);
        }
    }

    @Test
    void offSendsNothing() throws Exception {
        try (SessionHarness h = new SessionHarness(Map.of())) {
            h.runTasks();
            assertThat(h.serverReads()).isEmpty();
            h.serverSends("220 ready\r\n");
            h.clientSends("USER anonymous\r\n");
            assertThat(h.serverReads()).isEqualTo("USER anonymous\r\n");
        }
    }
}
