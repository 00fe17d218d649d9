package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.RawFtpClient.Reply;
import io.ftpgate.testing.ScriptedFtpServer;
import io.ftpgate.tls.DemoCertificate;
import io.ftpgate.tls.TlsMaterial;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.commons.net.util.TrustManagerUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client leg's RFC 4217 dialogue as the gateway answers it (never forwarded), FEAT rewriting,
 * and the STARTTLS injection class on both legs: bytes sent in clear after AUTH (client) or after
 * 234 (server) are never read as commands or replies; the session is closed and it is counted.
 */
class FtpsProtocolTest {
    @TempDir
    static Path dir;
    static TlsMaterial cert;
    ScriptedFtpServer server;

    @BeforeAll
    static void certificate() throws Exception {
        cert = DemoCertificate.create(Files.createDirectories(dir.resolve("gw")));
    }

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedFtpServer();
        server.on("FEAT", (p, a) -> p.reply("211-Features:", " AUTH TLS;TLS-C;SSL;TLS-P;", " PBSZ", " PROT C;P;", " EPSV",
                " CCC", " UTF8", "211 End"));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private GatewayUnderTest gateway(Map<String, Object> extra) throws Exception {
        Map<String, Object> m = new HashMap<>(FtpsGatewayTest.clientLegFor(cert, "explicit"));
        m.putAll(extra);
        return HostileServerTest.gateway(server.upstream(), m);
    }

    /** A control connection that can turn into TLS after AUTH. */
    static final class Control implements AutoCloseable {
        Socket socket;
        BufferedReader in;
        OutputStream out;

        Control(GatewayUnderTest gw) throws Exception {
            socket = new Socket(gw.address().getAddress(), gw.address().getPort());
            socket.setSoTimeout(5000);
            streams();
        }

        private void streams() throws Exception {
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
        }

        void send(String raw) throws Exception {
            out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Reads one reply (multi-line: all its lines), joined by \n. */
        String read() throws Exception {
            String first = in.readLine();
            if (first == null) {
                return null;
            }
            StringBuilder all = new StringBuilder(first);
            if (first.length() > 3 && first.charAt(3) == '-') {
                String line;
                do {
                    line = in.readLine();
                    all.append('\n').append(line);
                } while (line != null && !line.startsWith(first.substring(0, 3) + " "));
            }
            return all.toString();
        }

        String command(String line) throws Exception {
            send(line + "\r\n");
            return read();
        }

        void startTls() throws Exception {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {TrustManagerUtils.getAcceptAllTrustManager()}, null);
            SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            tls.startHandshake();
            socket = tls;
            streams();
        }

        boolean closedByPeer() {
            try {
                return socket.getInputStream().read() == -1;
            } catch (Exception e) {
                return true;
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    @Test
    void theRfc4217DialogueIsAnsweredByTheGateway() throws Exception {
        try (GatewayUnderTest g = gateway(Map.of()); Control c = new Control(g)) {
            assertThat(c.read()).startsWith("220");
            assertThat(c.command("PBSZ 0")).startsWith("503");
            assertThat(c.command("PROT P")).startsWith("503");
            assertThat(c.command("AUTH KERBEROS_V4")).startsWith("504");
            assertThat(c.command("AUTH TLS")).startsWith("234");
            c.startTls();
            assertThat(c.command("AUTH TLS")).as("a second AUTH").startsWith("503");
            assertThat(c.command("PROT P")).as("PROT before PBSZ").startsWith("503");
            assertThat(c.command("PBSZ 0")).isEqualTo("200 PBSZ=0");
            assertThat(c.command("PROT S")).startsWith("536");
            assertThat(c.command("PROT E")).startsWith("536");
            assertThat(c.command("PROT X")).startsWith("504");
            assertThat(c.command("PROT P")).isEqualTo("200 PROT now Private");
            assertThat(c.command("PROT C")).isEqualTo("200 PROT now Clear");
            assertThat(c.command("CCC")).startsWith("534");
            assertThat(c.command("REIN")).startsWith("502");
            String feat = c.command("FEAT");
            assertThat(feat).contains(" AUTH TLS\n", " PBSZ\n", " PROT\n", " EPSV", " UTF8")
                    .doesNotContain("TLS-C", "PROT C;P", " CCC");
            assertThat(c.command("USER anonymous")).startsWith("331");
            assertThat(c.command("PASS x")).startsWith("230");
        }
        assertThat(server.verbs()).as("AUTH, PBSZ, PROT, CCC, REIN are never forwarded")
                .doesNotContain("AUTH", "PBSZ", "PROT", "CCC", "REIN");
    }

    @Test
    void requiredTlsRefusesLoginInClearAndClearData() throws Exception {
        try (GatewayUnderTest g = gateway(Map.of("ftpgate.listeners.test.tls.required", true,
                "ftpgate.listeners.test.tls.allow-clear-data", false)); Control c = new Control(g)) {
            assertThat(c.read()).startsWith("220");
            assertThat(c.command("USER anonymous")).startsWith("530").contains("AUTH TLS");
            assertThat(c.command("AUTH TLS")).startsWith("234");
            c.startTls();
            assertThat(c.command("USER anonymous")).startsWith("331");
            assertThat(c.command("PASS x")).startsWith("230");
            assertThat(c.command("PBSZ 0")).startsWith("200");
            assertThat(c.command("PROT C")).startsWith("534");
            assertThat(c.command("RETR hello.txt")).as("PROT is still C (the default)").startsWith("522");
        }
        assertThat(server.verbs()).containsExactly("USER", "PASS");
    }

    @Test
    void bytesInClearAfterAuthInTheSameSegmentCloseTheSession() throws Exception {
        try (GatewayUnderTest g = gateway(Map.of()); Control c = new Control(g)) {
            assertThat(c.read()).startsWith("220");
            c.send("AUTH TLS\r\nUSER injected\r\n");
            assertThat(c.read()).as("no 234, nothing").isNull();
            assertThat(g.refusedCount("tls_injection")).isEqualTo(1.0);
            g.awaitNoSessionsNorLeases();
        }
        assertThat(server.verbs()).doesNotContain("USER");
    }

    @Test
    void bytesInClearAfterAuthInALaterSegmentNeverReachTheServer() throws Exception {
        // Pipelined behind a command that is still outstanding: held back, then found at AUTH time.
        server.on("NOOP", (p, a) -> {
            Thread.sleep(300);
            p.reply("200 NOOP ok");
        });
        try (GatewayUnderTest g = gateway(Map.of()); Control c = new Control(g)) {
            assertThat(c.read()).startsWith("220");
            c.send("NOOP\r\nAUTH TLS\r\n");
            Thread.sleep(100);
            c.send("USER injected\r\n");
            assertThat(c.read()).startsWith("200");
            assertThat(c.read()).as("closed instead of 234").isNull();
            assertThat(g.refusedCount("tls_injection")).isEqualTo(1.0);
        }
        assertThat(server.verbs()).containsExactly("NOOP");
    }

    @Test
    void aServerThatSendsMoreAfterItsAuthReplyIsRefused() throws Exception {
        server.on("AUTH", (p, a) -> p.raw("234 go ahead\r\n230 injected login\r\n"));
        try (GatewayUnderTest g = HostileServerTest.gateway(server.upstream(),
                Map.of("ftpgate.listeners.test.upstream-tls.mode", "explicit",
                        "ftpgate.listeners.test.upstream-tls.verify", "insecure"));
             RawFtpClient c = new RawFtpClient(g.address())) {
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("cannot secure the connection to the FTP server", "in clear after 234");
            assertThat(g.refusedCount("tls_injection")).isEqualTo(1.0);
            g.awaitNoSessionsNorLeases();
        }
    }

    @Test
    void aServerThatRefusesAuthGives421() throws Exception {
        server.on("AUTH", (p, a) -> p.reply("502 no TLS here"));
        try (GatewayUnderTest g = HostileServerTest.gateway(server.upstream(),
                Map.of("ftpgate.listeners.test.upstream-tls.mode", "explicit"));
             RawFtpClient c = new RawFtpClient(g.address())) {
            Reply r = c.read();
            assertThat(r.code()).isEqualTo(421);
            assertThat(r.text()).contains("refused AUTH TLS (502)");
        }
        assertThat(server.verbs()).as("no login in clear").containsExactly("AUTH");
    }

    @Test
    void reloadTakesANewCertificateForNewSessionsAndRefusesABadOne() throws Exception {
        Path certDir = Files.createDirectories(dir.resolve("reload"));
        TlsMaterial first = DemoCertificate.create(certDir);
        Map<String, Object> m = new HashMap<>(HostileServerTest.FAST);
        m.putAll(FtpsGatewayTest.clientLegFor(first, "explicit"));
        m.put("ftpgate.listeners.test.listen", java.util.List.of("127.0.0.1:0"));
        m.put("ftpgate.listeners.test.upstream", server.upstream());
        m.put("ftpgate.metrics.listen", "");
        try (GatewayUnderTest g = new GatewayUnderTest("127.0.0.1:0", server.upstream(), m);
             Control old = new Control(g)) {
            assertThat(old.read()).startsWith("220");
            assertThat(old.command("AUTH TLS")).startsWith("234");
            old.startTls();
            assertThat(fingerprint(old)).isEqualTo(first.fingerprint());

            TlsMaterial second = DemoCertificate.create(certDir); // new key and certificate, same files
            g.gateway.reload(GatewayUnderTest.settings(m));
            try (Control fresh = new Control(g)) {
                assertThat(fresh.read()).startsWith("220");
                assertThat(fresh.command("AUTH TLS")).startsWith("234");
                fresh.startTls();
                assertThat(fingerprint(fresh)).isEqualTo(second.fingerprint()).isNotEqualTo(first.fingerprint());
            }
            assertThat(old.command("NOOP")).as("the running session keeps its TLS").startsWith("200");

            Files.writeString(second.certificateFile(), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> g.gateway.reload(GatewayUnderTest.settings(m))))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining(second.certificateFile().toString());
            try (Control after = new Control(g)) {
                assertThat(after.read()).startsWith("220");
                assertThat(after.command("AUTH TLS")).startsWith("234");
                after.startTls();
                assertThat(fingerprint(after)).as("the old certificate stays").isEqualTo(second.fingerprint());
            }
        }
    }

    private static String fingerprint(Control c) throws Exception {
        var peer = (java.security.cert.X509Certificate) ((SSLSocket) c.socket).getSession().getPeerCertificates()[0];
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(peer.getEncoded());
        return java.util.HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    }
}
