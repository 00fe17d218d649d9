package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PROXY protocol on a control listener, from a raw socket: a trusted load balancer
 * (127.0.0.2) names the client and the session uses that address for the bounce check and the
 * expected data peer; anyone else, garbage and silence are closed without a byte. With
 * {@code proxy-protocol.data-connections} the passive data connections come through the balancer
 * too: each carries its own header, which must name the session's client, and the lease names the
 * balancer.
 */
class ProxyProtocolTest {
    private static final InetAddress BALANCER = address("127.0.0.2");
    private static final String CLIENT = "198.51.100.7";

    @TempDir
    Path root;

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private GatewayUnderTest gateway(EmbeddedFtpServer server) throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                "ftpgate.listeners.test.proxy-protocol.enabled", true,
                "ftpgate.listeners.test.proxy-protocol.trusted", List.of("127.0.0.2/32"),
                "ftpgate.listeners.test.proxy-protocol.header-timeout", "700ms"));
    }

    private GatewayUnderTest proxiedDataGateway(EmbeddedFtpServer server) throws Exception {
        return new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                "ftpgate.listeners.test.proxy-protocol.enabled", true,
                "ftpgate.listeners.test.proxy-protocol.trusted", List.of("127.0.0.2/32", "127.0.0.4/32"),
                "ftpgate.listeners.test.proxy-protocol.header-timeout", "700ms",
                "ftpgate.listeners.test.proxy-protocol.data-connections", true));
    }

    /** A control connection from {@code from} (any 127/8 address is local on Linux). */
    private static Socket connect(GatewayUnderTest gw, InetAddress from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(gw.address(), 3000);
        s.setSoTimeout(5000);
        return s;
    }

    private static byte[] v2(HAProxyMessage m) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(m);
        ByteBuf b = ch.readOutbound();
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    private static String reply(BufferedReader in) throws IOException {
        String line;
        do {
            line = in.readLine();
            assertThat(line).as("connection closed").isNotNull();
        } while (line.length() > 3 && line.charAt(3) == '-');
        return line;
    }

    private static String command(OutputStream out, BufferedReader in, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return reply(in);
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void loginAndPasv(Socket s, BufferedReader in) throws IOException {
        OutputStream out = s.getOutputStream();
        assertThat(command(out, in, "USER anonymous")).startsWith("331");
        assertThat(command(out, in, "PASS x")).startsWith("230");
        assertThat(command(out, in, "PASV")).startsWith("227");
    }

    /** A connection from {@code from} to the gateway's data port {@code port}. */
    private static Socket connectData(InetAddress from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        s.setSoTimeout(5000);
        return s;
    }

    private static int pasvPort(String reply227) {
        String[] f = reply227.substring(reply227.indexOf('(') + 1, reply227.indexOf(')')).split(",");
        return Integer.parseInt(f[4].trim()) * 256 + Integer.parseInt(f[5].trim());
    }

    private static byte[] dataHeader(String source, int port) {
        return v2(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4,
                source, "127.0.0.1", 50000, port));
    }

    private static InetAddress leasePeer(GatewayUnderTest gw) {
        await().atMost(Duration.ofSeconds(3)).until(() -> !gw.firewall.applied().isEmpty());
        DataLease lease = gw.firewall.applied().get(0);
        return lease.peer();
    }

    /** Nothing arrives before the gateway closes (an EOF, or a reset when our bytes were never read). */
    private static void assertClosedWithoutAByte(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            assertThat(in.read()).as("a byte from the gateway").isEqualTo(-1);
        } catch (SocketException reset) {
            assertThat(reset.getMessage()).contains("reset");
        }
    }

    private static double outcome(GatewayUnderTest gw, String outcome) {
        var c = gw.gateway.meterRegistry().find("ftpgate.proxy.headers").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aV1HeaderFromTheBalancerMakesItsSourceTheClientEverywhere() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server);
             Socket s = connect(gw, BALANCER)) {
            OutputStream out = s.getOutputStream();
            BufferedReader in = reader(s);
            out.write(("PROXY TCP4 " + CLIENT + " 127.0.0.1 40001 21\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(reply(in)).startsWith("220");
            assertThat(command(out, in, "USER anonymous")).startsWith("331");
            assertThat(command(out, in, "PASS x")).startsWith("230");
            assertThat(command(out, in, "PORT 127,0,0,2,200,10")).as("the balancer is not the client: a bounce")
                    .startsWith("504");
            assertThat(command(out, in, "PORT 198,51,100,7,200,10")).as("the client named by the header").startsWith("200");
            assertThat(command(out, in, "PASV")).startsWith("227");
            assertThat(leasePeer(gw)).as("the expected data peer").isEqualTo(InetAddress.getByName(CLIENT));
            assertThat(outcome(gw, "proxied")).isEqualTo(1);
        }
    }

    @Test
    void aV2HeaderSplitOverTwoSegmentsIsAccepted() throws Exception {
        byte[] header = v2(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "198.51.100.9", "127.0.0.1", 40002, 21));
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server);
             Socket s = connect(gw, BALANCER)) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            out.write(header, 0, 10);
            out.flush();
            Thread.sleep(200);
            out.write(header, 10, header.length - 10);
            out.flush();
            BufferedReader in = reader(s);
            assertThat(reply(in)).startsWith("220");
            loginAndPasv(s, in);
            assertThat(leasePeer(gw)).isEqualTo(InetAddress.getByName("198.51.100.9"));
        }
    }

    @Test
    void aClientOfTheOtherFamilyThanTheBalancersConnectionGets421() throws Exception {
        byte[] header = v2(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP6, "2001:db8:1::7", "2001:db8:2::1", 40004, 21));
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server);
             Socket s = connect(gw, BALANCER)) {
            s.getOutputStream().write(header);
            BufferedReader in = reader(s);
            assertThat(reply(in)).isEqualTo("421 Service not available: the load balancer must reach the gateway "
                    + "over IPv6 for IPv6 clients");
            assertThat(in.read()).isEqualTo(-1);
            assertThat(gw.gateway.meterRegistry().find("ftpgate.sessions").counter()).as("no session counted").isNull();
        }
    }

    @Test
    void aV2LocalHeaderGivesASessionWithTheBalancersOwnAddress() throws Exception {
        byte[] local = v2(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server);
             Socket s = connect(gw, BALANCER)) {
            s.getOutputStream().write(local);
            BufferedReader in = reader(s);
            assertThat(reply(in)).as("a health check sees the server's greeting").startsWith("220");
            loginAndPasv(s, in);
            assertThat(leasePeer(gw)).isEqualTo(BALANCER);
            assertThat(outcome(gw, "local")).isEqualTo(1);
        }
    }

    @Test
    void anUntrustedPeerIsClosedWithoutAByteEvenWithAValidHeaderAndNoSessionStarts() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server);
             Socket s = connect(gw, InetAddress.getByName("127.0.0.1"))) {
            s.getOutputStream().write(("PROXY TCP4 " + CLIENT + " 127.0.0.1 40003 21\r\n").getBytes(StandardCharsets.US_ASCII));
            assertClosedWithoutAByte(s);
            assertThat(outcome(gw, "untrusted")).isEqualTo(1);
            assertThat(gw.gateway.meterRegistry().find("ftpgate.sessions").counter()).as("no session counted").isNull();
        }
    }

    @Test
    void garbageOrSilenceFromTheBalancerIsClosedWithoutAByte() throws Exception {
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = gateway(server)) {
            try (Socket garbage = connect(gw, BALANCER)) {
                garbage.getOutputStream().write("USER anonymous\r\n".getBytes(StandardCharsets.US_ASCII));
                assertClosedWithoutAByte(garbage);
            }
            long t0 = System.nanoTime();
            try (Socket silent = connect(gw, BALANCER)) {
                assertClosedWithoutAByte(silent);
                assertThat(System.nanoTime() - t0).as("closed at the header timeout")
                        .isGreaterThanOrEqualTo(Duration.ofMillis(700).toNanos());
            }
            await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
                assertThat(outcome(gw, "invalid")).isEqualTo(1);
                assertThat(outcome(gw, "timeout")).isEqualTo(1);
            });
            assertThat(gw.gateway.activeSessions()).isZero();
            assertThat(gw.gateway.meterRegistry().find("ftpgate.sessions").counter()).as("no session counted").isNull();
        }
    }

    @Test
    void dataConnectionsThroughTheBalancerMustNameTheClientAndStrangersDoNotTakeThePort() throws Exception {
        byte[] upload = new byte[200_000];
        new java.util.Random(3).nextBytes(upload);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = proxiedDataGateway(server);
             Socket s = connect(gw, BALANCER)) {
            OutputStream out = s.getOutputStream();
            BufferedReader in = reader(s);
            out.write(("PROXY TCP4 " + CLIENT + " 127.0.0.1 40001 21\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(reply(in)).startsWith("220");
            assertThat(command(out, in, "USER anonymous")).startsWith("331");
            assertThat(command(out, in, "PASS x")).startsWith("230");
            assertThat(command(out, in, "TYPE I")).startsWith("200");
            int port = pasvPort(command(out, in, "PASV"));
            assertThat(leasePeer(gw)).as("the lease lets in the balancer, the connection's actual source").isEqualTo(BALANCER);

            try (Socket stranger = connectData(BALANCER, port)) {
                stranger.getOutputStream().write(dataHeader("198.51.100.66", port));
                assertClosedWithoutAByte(stranger);
            }
            try (Socket untrusted = connectData(InetAddress.getByName("127.0.0.3"), port)) {
                untrusted.getOutputStream().write(dataHeader(CLIENT, port));
                assertClosedWithoutAByte(untrusted);
            }
            try (Socket otherBalancer = connectData(InetAddress.getByName("127.0.0.4"), port)) {
                otherBalancer.getOutputStream().write(dataHeader(CLIENT, port));
                assertClosedWithoutAByte(otherBalancer);
            }
            try (Socket silent = connectData(BALANCER, port)) {
                assertClosedWithoutAByte(silent);
            }
            await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
                assertThat(gw.refusedCount("wrong_peer")).as("the stranger through the balancer, another balancer").isEqualTo(2);
                assertThat(outcome(gw, "untrusted")).isEqualTo(1);
                assertThat(outcome(gw, "timeout")).isEqualTo(1);
            });

            // The client's own connection still gets the port; its first bytes share a segment with the header.
            try (Socket data = connectData(BALANCER, port)) {
                byte[] header = dataHeader(CLIENT, port);
                byte[] both = java.util.Arrays.copyOf(header, header.length + upload.length);
                System.arraycopy(upload, 0, both, header.length, upload.length);
                data.getOutputStream().write(both);
                assertThat(command(out, in, "STOR up.bin")).startsWith("150");
                data.shutdownOutput();
                assertThat(reply(in)).startsWith("226");
            }
            assertThat(java.util.Arrays.equals(java.nio.file.Files.readAllBytes(root.resolve("up.bin")), upload))
                    .as("the upload arrived whole, without the header").isTrue();

            port = pasvPort(command(out, in, "PASV"));
            try (Socket data = connectData(BALANCER, port)) {
                data.getOutputStream().write(dataHeader(CLIENT, port));
                assertThat(command(out, in, "RETR up.bin")).startsWith("150");
                assertThat(java.util.Arrays.equals(data.getInputStream().readAllBytes(), upload)).as("the download").isTrue();
                assertThat(reply(in)).startsWith("226");
            }
            assertThat(outcome(gw, "proxied")).as("the control header and the stranger's and client's data headers")
                    .isEqualTo(4);
            assertThat(gw.refusedCount("wrong_peer")).isEqualTo(2);
        }
    }

    /** A client context that trusts only {@code cert}. */
    private static javax.net.ssl.SSLContext trusting(io.ftpgate.tls.TlsMaterial cert) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("gateway", cert.leaf());
        javax.net.ssl.TrustManagerFactory tmf =
                javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void aProtectedDataConnectionThroughTheBalancerStartsTlsRightAfterItsHeader() throws Exception {
        Path certDir = java.nio.file.Files.createDirectories(root.resolve("cert"));
        io.ftpgate.tls.TlsMaterial cert = io.ftpgate.tls.DemoCertificate.create(certDir);
        java.nio.file.Files.writeString(root.resolve("hello.txt"), "hello through the balancer\n");
        javax.net.ssl.SSLContext tls = trusting(cert);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(), Map.of(
                     "ftpgate.listeners.test.proxy-protocol.enabled", true,
                     "ftpgate.listeners.test.proxy-protocol.trusted", List.of("127.0.0.2/32"),
                     "ftpgate.listeners.test.proxy-protocol.data-connections", true,
                     "ftpgate.listeners.test.tls.mode", "explicit",
                     "ftpgate.listeners.test.tls.certificate", cert.certificateFile().toString(),
                     "ftpgate.listeners.test.tls.private-key", cert.keyFile().toString()));
             Socket plain = connect(gw, BALANCER)) {
            plain.getOutputStream().write(("PROXY TCP4 " + CLIENT + " 127.0.0.1 40005 21\r\n").getBytes(StandardCharsets.US_ASCII));
            BufferedReader plainIn = reader(plain);
            assertThat(reply(plainIn)).startsWith("220");
            assertThat(command(plain.getOutputStream(), plainIn, "AUTH TLS")).startsWith("234");
            try (javax.net.ssl.SSLSocket control = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                    .createSocket(plain, "127.0.0.1", gw.address().getPort(), true)) {
                control.startHandshake();
                OutputStream out = control.getOutputStream();
                BufferedReader in = reader(control);
                assertThat(command(out, in, "USER anonymous")).startsWith("331");
                assertThat(command(out, in, "PASS x")).startsWith("230");
                assertThat(command(out, in, "PBSZ 0")).startsWith("200");
                assertThat(command(out, in, "PROT P")).startsWith("200");
                assertThat(command(out, in, "TYPE I")).startsWith("200");
                int port = pasvPort(command(out, in, "PASV"));
                Socket raw = connectData(BALANCER, port);
                raw.getOutputStream().write(dataHeader(CLIENT, port));
                try (javax.net.ssl.SSLSocket data = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                        .createSocket(raw, "127.0.0.1", port, true)) {
                    data.startHandshake();
                    assertThat(command(out, in, "RETR hello.txt")).startsWith("150");
                    assertThat(new String(data.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                            .isEqualTo("hello through the balancer\n");
                }
                assertThat(reply(in)).startsWith("226");
            }
        }
    }
}
