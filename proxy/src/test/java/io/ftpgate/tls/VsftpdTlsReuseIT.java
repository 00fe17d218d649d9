package io.ftpgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.RootTools;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ftps.md §10 against the real thing: Debian's vsftpd 3.0.3 with {@code require_ssl_reuse=YES} and
 * {@code strict_ssl_read_eof=YES} on loopback, and a Netty client whose data engines carry the
 * control connection's (server name, control port) as peer hint. Every data connection resumes and
 * every LIST/RETR gets 226, for TLS 1.2 and 1.3 and both client providers; the negative control
 * (the data port as hint, so nothing to resume) gets vsftpd's 522.
 */
@Tag("netns")
class VsftpdTlsReuseIT {
    @TempDir
    Path dir;

    private Process vsftpd;
    private int port;
    private X509Bundle cert;
    private Path log;

    @BeforeEach
    void startVsftpd() throws Exception {
        RootTools.requireRootAndTools("vsftpd");
        cert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost").rsa2048()
                .setIsCertificateAuthority(true).buildSelfSigned();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("small.txt"), "hello over TLS\n");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path chain = dir.resolve("srv.pem");
        Path key = dir.resolve("srv.key");
        Files.writeString(chain, cert.getCertificatePathPEM());
        Files.writeString(key, cert.getPrivateKeyPEM());
        log = dir.resolve("vsftpd.log");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        int pasv = 42000 + ThreadLocalRandom.current().nextInt(200) * 100;
        Path conf = dir.resolve("vsftpd.conf");
        Files.writeString(conf, String.join("\n",
                "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", "listen_port=" + port, "background=NO",
                "anonymous_enable=YES", "no_anon_password=YES", "local_enable=NO", "anon_root=" + root,
                "pasv_enable=YES", "pasv_min_port=" + pasv, "pasv_max_port=" + (pasv + 99),
                "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                "rsa_cert_file=" + chain, "rsa_private_key_file=" + key, "ssl_ciphers=HIGH",
                "require_ssl_reuse=YES", "ssl_request_cert=NO", "strict_ssl_read_eof=YES", "strict_ssl_write_shutdown=YES",
                "debug_ssl=YES", "log_ftp_protocol=YES", "xferlog_enable=YES", "xferlog_std_format=NO",
                "vsftpd_log_file=" + log, "seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO",
                "secure_chroot_dir=" + empty, ""), StandardCharsets.US_ASCII);
        vsftpd = new ProcessBuilder("/usr/sbin/vsftpd", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        Awaitility.await("vsftpd on 127.0.0.1:" + port).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(() -> {
                    if (!vsftpd.isAlive()) {
                        throw new AssertionError("vsftpd exited: " + Files.readString(dir.resolve("stdout.txt")));
                    }
                    new Socket("127.0.0.1", port).close();
                    return true;
                });
    }

    @AfterEach
    void stopVsftpd() throws Exception {
        if (vsftpd != null) {
            vsftpd.destroy();
            vsftpd.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "{0}, client provider {1}")
    @CsvSource({"TLSv1.2, JDK", "TLSv1.3, JDK", "TLSv1.2, OPENSSL", "TLSv1.3, OPENSSL"})
    void everyDataConnectionResumesTheControlSession(String protocol, SslProvider provider) throws Exception {
        // Read per SSLContext (SSLSessionContextImpl): TLS 1.2 session ids, not tickets; see below.
        System.setProperty(TICKETS, "false");
        if (provider == SslProvider.OPENSSL) {
            org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.handler.ssl.OpenSsl.isAvailable());
        }
        ResumptionObserver observer = new ResumptionObserver((X509TrustManager) cert.toTrustManager());
        SslContext tls = SslContextBuilder.forClient().sslProvider(provider).protocols(protocol).trustManager(observer).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (FtpsTestClient ftp = new FtpsTestClient(group, tls, observer, "localhost", "127.0.0.1", port)) {
            assertThat(ftp.reply().code()).isEqualTo(220);
            assertThat(ftp.authTls().getSession().getProtocol()).isEqualTo(protocol);
            assertThat(ftp.command("USER anonymous").code()).isEqualTo(230);
            assertThat(ftp.command("PBSZ 0").code()).isEqualTo(200);
            assertThat(ftp.command("PROT P").code()).isEqualTo(200);
            List<String> seen = new ArrayList<>();
            for (String cmd : List.of("LIST", "LIST", "RETR small.txt", "LIST", "RETR small.txt", "NLST", "LIST", "RETR small.txt")) {
                FtpsTestClient.Transfer t = ftp.transfer(cmd, port);
                seen.add(cmd + " -> " + t.end().code() + (t.resumed() ? " resumed" : " FULL") + " " + t.protocol());
                assertThat(t.end().code()).as("%s: %s (vsftpd log: %s)", cmd, t.end(), vsftpdLog()).isEqualTo(226);
                assertThat(t.resumed()).as(cmd).isTrue();
                if (cmd.startsWith("RETR")) {
                    assertThat(new String(t.data(), StandardCharsets.UTF_8)).isEqualTo("hello over TLS\n");
                } else {
                    assertThat(new String(t.data(), StandardCharsets.UTF_8)).contains("small.txt");
                }
            }
            System.out.printf("[tls-notes] vsftpd %s client=%s: %s%n", protocol, provider, seen);

            // Negative control: labelled with the data port, the engine finds nothing to resume.
            FtpsTestClient.Transfer fresh = ftp.transfer("LIST", port + 1);
            System.out.printf("[tls-notes] vsftpd %s client=%s: without the control hint -> %s%n", protocol, provider, fresh.end());
            assertThat(fresh.resumed()).isFalse();
            assertThat(fresh.end().code()).isEqualTo(522);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    static final String TICKETS = "jdk.tls.client.enableSessionTicketExtension";

    /**
     * The pitfall that {@code jdk.tls.client.enableSessionTicketExtension=false} avoids: vsftpd sets
     * its session timeout to INT_MAX, so its TLS 1.2 tickets carry a lifetime of 2^31-1 s; the JDK
     * client discards tickets living longer than 7 days ("Discarding NewSessionTicket with lifetime
     * 2147483647") and offers the bare session id, which OpenSSL did not cache because it issued a
     * ticket: no reuse, 522.
     */
    @org.junit.jupiter.api.Test
    void withTls12TicketsTheJdkClientDoesNotResumeAgainstVsftpd() throws Exception {
        System.setProperty(TICKETS, "true");
        try {
            ResumptionObserver observer = new ResumptionObserver((X509TrustManager) cert.toTrustManager());
            SslContext tls = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.2")
                    .trustManager(observer).build();
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try (FtpsTestClient ftp = new FtpsTestClient(group, tls, observer, "localhost", "127.0.0.1", port)) {
                assertThat(ftp.reply().code()).isEqualTo(220);
                ftp.authTls();
                assertThat(ftp.command("USER anonymous").code()).isEqualTo(230);
                ftp.command("PBSZ 0");
                ftp.command("PROT P");
                FtpsTestClient.Transfer t = ftp.transfer("LIST", port);
                assertThat(t.resumed()).isFalse();
                assertThat(t.end().code()).isEqualTo(522);
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        } finally {
            System.setProperty(TICKETS, "false");
        }
    }

    private String vsftpdLog() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(none)";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
