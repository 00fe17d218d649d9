package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code upstream-proxy-protocol} on loopback: the gateway's control connection to the server starts
 * with a PROXY header (decoded here by Netty's own decoder, as a server would) naming the client and
 * the gateway address the client reached, then FTP goes on as usual; the client is the one a
 * trusted load balancer's header named, in both families; implicit TLS starts after the header,
 * explicit TLS (AUTH TLS) after the header and the greeting;
 * with the setting off the server's first bytes are the client's first command.
 */
class UpstreamProxyProtocolTest {
    private static final InetAddress V4 = address("127.0.0.1");
    private static final InetAddress V6 = address("::1");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static GatewayUnderTest gateway(String listen, ServerSocket server, Map<String, Object> extra) throws Exception {
        InetSocketAddress s = (InetSocketAddress) server.getLocalSocketAddress();
        return new GatewayUnderTest(listen, "127.0.0.1:" + s.getPort(), extra);
    }

    private static ServerSocket server() throws IOException {
        ServerSocket s = new ServerSocket(0, 5, V4);
        s.setSoTimeout(5000);
        return s;
    }

    /** The gateway's upstream connection, accepted. */
    private static Socket accept(ServerSocket server) throws IOException {
        Socket s = server.accept();
        s.setSoTimeout(5000);
        return s;
    }

    /** Reads one header as it arrives (v1 up to LF, v2 its fixed part and its length) and decodes it with Netty. */
    private static HAProxyMessage readHeader(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int first = in.read();
        bytes.write(first);
        if (first == 'P') {
            int b;
            while ((b = in.read()) != '\n') {
                assertThat(b).as("end of stream inside a v1 header").isNotEqualTo(-1);
                bytes.write(b);
            }
            bytes.write('\n');
        } else {
            byte[] fixed = in.readNBytes(15);
            bytes.write(fixed);
            int length = ((fixed[13] & 0xff) << 8) | (fixed[14] & 0xff);
            bytes.write(in.readNBytes(length));
        }
        EmbeddedChannel decoder = new EmbeddedChannel(new HAProxyMessageDecoder());
        decoder.writeInbound(Unpooled.wrappedBuffer(bytes.toByteArray()));
        HAProxyMessage m = decoder.readInbound();
        assertThat(m).as("a PROXY header: %s", bytes.toString(StandardCharsets.ISO_8859_1)).isNotNull();
        decoder.finishAndReleaseAll();
        return m;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n' && b != -1) {
            line.write(b);
        }
        return line.toString(StandardCharsets.ISO_8859_1).replace("\r", "");
    }

    /** The server greets; the client sees the greeting and its USER reaches the server right after the header. */
    private static void ftpGoesOn(Socket upstream, RawFtpClient client) throws IOException {
        upstream.getOutputStream().write("220 behind a proxy\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(client.read().code()).isEqualTo(220);
        client.send("USER anonymous");
        assertThat(readLine(upstream.getInputStream())).isEqualTo("USER anonymous");
    }

    private static void assertHeader(HAProxyMessage m, HAProxyProtocolVersion version, HAProxyProxiedProtocol protocol,
                                     InetSocketAddress source, InetSocketAddress destination) {
        try {
            assertThat(m.protocolVersion()).isEqualTo(version);
            assertThat(m.command()).isEqualTo(HAProxyCommand.PROXY);
            assertThat(m.proxiedProtocol()).isEqualTo(protocol);
            assertThat(address(m.sourceAddress())).isEqualTo(source.getAddress());
            assertThat(m.sourcePort()).isEqualTo(source.getPort());
            assertThat(address(m.destinationAddress())).isEqualTo(destination.getAddress());
            assertThat(m.destinationPort()).isEqualTo(destination.getPort());
        } finally {
            m.release();
        }
    }

    @Test
    void v1NamesTheClientAndTheGatewayAddressItReached() throws Exception {
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway("127.0.0.1:0", server, Map.of("ftpgate.listeners.test.upstream-proxy-protocol", "v1"));
             RawFtpClient client = new RawFtpClient(gw.address(), address("127.0.0.5"));
             Socket upstream = accept(server)) {
            InputStream in = upstream.getInputStream();
            byte[] start = in.readNBytes(11);
            assertThat(new String(start, StandardCharsets.US_ASCII)).isEqualTo("PROXY TCP4 ");
            assertThat("PROXY TCP4 " + readLine(in)).isEqualTo("PROXY TCP4 127.0.0.5 127.0.0.1 "
                    + client.localAddress().getPort() + " " + gw.address().getPort());
            ftpGoesOn(upstream, client);
        }
    }

    @Test
    void v2NamesTheClientThatATrustedBalancersHeaderNamedOverIpv4() throws Exception {
        viaBalancer("127.0.0.1:0", address("127.0.0.2"), "127.0.0.2/32", "PROXY TCP4 198.51.100.7 192.0.2.1 40001 21",
                HAProxyProxiedProtocol.TCP4, new InetSocketAddress("198.51.100.7", 40001));
    }

    @Test
    void v2NamesAnIpv6ClientThatATrustedBalancersHeaderNamedOverIpv6() throws Exception {
        viaBalancer("[::1]:0", V6, "::1/128", "PROXY TCP6 2001:db8:1::7 2001:db8:1::1 40002 21",
                HAProxyProxiedProtocol.TCP6, new InetSocketAddress("2001:db8:1::7", 40002));
    }

    /**
     * A listener on {@code listen} reads the PROXY header of the balancer at {@code from}; the
     * header to the server names the client the balancer named and the gateway address the balancer
     * reached (the specification's destination: where the proxy, ftpgate, accepted the connection).
     */
    private static void viaBalancer(String listen, InetAddress from, String trusted, String incoming,
                                    HAProxyProxiedProtocol protocol, InetSocketAddress client) throws Exception {
        Map<String, Object> m = new HashMap<>(Map.of(
                "ftpgate.listeners.test.upstream-proxy-protocol", "v2",
                "ftpgate.listeners.test.proxy-protocol.enabled", true,
                "ftpgate.listeners.test.proxy-protocol.trusted", List.of(trusted)));
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway(listen, server, m);
             RawFtpClient balancer = new RawFtpClient(gw.address(), from)) {
            balancer.sendRaw((incoming + "\r\n").getBytes(StandardCharsets.US_ASCII));
            try (Socket upstream = accept(server)) {
                // The destination is where this gateway accepted the connection, not the balancer's address.
                assertHeader(readHeader(upstream.getInputStream()), HAProxyProtocolVersion.V2, protocol, client,
                        gw.address());
                ftpGoesOn(upstream, balancer);
            }
        }
    }

    @Test
    void anIpv4ClientOnADualStackListenerIsNamedAsTcp4() throws Exception {
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway("[::]:0", server, Map.of("ftpgate.listeners.test.upstream-proxy-protocol", "v2"));
             RawFtpClient client = new RawFtpClient(new InetSocketAddress(V4, gw.address().getPort()), V4);
             Socket upstream = accept(server)) {
            assertHeader(readHeader(upstream.getInputStream()), HAProxyProtocolVersion.V2, HAProxyProxiedProtocol.TCP4,
                    new InetSocketAddress(V4, client.localAddress().getPort()), new InetSocketAddress(V4, gw.address().getPort()));
            ftpGoesOn(upstream, client);
        }
    }

    @Test
    void withImplicitTlsTheHeaderComesBeforeTheClientHello() throws Exception {
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway("127.0.0.1:0", server, Map.of(
                     "ftpgate.listeners.test.upstream-proxy-protocol", "v2",
                     "ftpgate.listeners.test.upstream-tls.mode", "implicit",
                     "ftpgate.listeners.test.upstream-tls.verify", "insecure"));
             RawFtpClient client = new RawFtpClient(gw.address(), V4);
             Socket upstream = accept(server)) {
            InputStream in = upstream.getInputStream();
            assertHeader(readHeader(in), HAProxyProtocolVersion.V2, HAProxyProxiedProtocol.TCP4,
                    new InetSocketAddress(V4, client.localAddress().getPort()), gw.address());
            byte[] record = in.readNBytes(3);
            assertThat(record).as("a TLS handshake record (22), version 3.x: the ClientHello").hasSize(3);
            assertThat(record[0]).isEqualTo((byte) 22);
            assertThat(record[1]).isEqualTo((byte) 3);
        }
    }

    @Test
    void withExplicitTlsTheHeaderComesBeforeTheGreetingAndAuthTls() throws Exception {
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway("127.0.0.1:0", server, Map.of(
                     "ftpgate.listeners.test.upstream-proxy-protocol", "v1",
                     "ftpgate.listeners.test.upstream-tls.mode", "explicit",
                     "ftpgate.listeners.test.upstream-tls.verify", "insecure"));
             RawFtpClient client = new RawFtpClient(gw.address(), V4);
             Socket upstream = accept(server)) {
            InputStream in = upstream.getInputStream();
            assertHeader(readHeader(in), HAProxyProtocolVersion.V1, HAProxyProxiedProtocol.TCP4,
                    new InetSocketAddress(V4, client.localAddress().getPort()), gw.address());
            upstream.getOutputStream().write("220 behind a proxy\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).as("the gateway secures the server leg after the header").isEqualTo("AUTH TLS");
        }
    }

    @Test
    void offSendsNothingBeforeTheClientsFirstCommand() throws Exception {
        try (ServerSocket server = server();
             GatewayUnderTest gw = gateway("127.0.0.1:0", server, Map.of());
             RawFtpClient client = new RawFtpClient(gw.address(), V4);
             Socket upstream = accept(server)) {
            // The first line the server reads is the client's USER: no header came before it.
            ftpGoesOn(upstream, client);
        }
    }
}
