package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.EmbeddedFtpsServer;
import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.tls.DemoCertificate;
import io.ftpgate.tls.TlsMaterial;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.apache.commons.net.util.TrustManagerUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FTPS through the gateway in-JVM: the Commons Net FTPS client → ftpgate → Apache FtpServer, plain
 * or explicit FTPS, every data mode, PROT P on each leg that has TLS, with byte-exact
 * downloads and uploads and no lease left behind.
 */
class FtpsGatewayTest {

    enum Mode { PASV, EPSV, PORT, EPSV_V6, EPRT_V6 }

    /**
     * Which legs have TLS, and how. Not here: an implicit server. Apache FtpServer's implicit
     * listener now and then sends its greeting before its TLS is in place (the gateway's TLS client
     * then fails with UNEXPECTED_RECORD, about 1 run in 6); explicit client to implicit server is
     * tested against vsftpd in FtpsIT instead (route "explicit client, implicit vsftpd").
     */
    enum Legs {
        EXPLICIT_CLIENT_PLAIN_SERVER, IMPLICIT_CLIENT_PLAIN_SERVER, PLAIN_CLIENT_EXPLICIT_SERVER,
        EXPLICIT_CLIENT_EXPLICIT_SERVER, IMPLICIT_CLIENT_FOLLOWED_BY_SERVER
    }

    @TempDir
    static Path dir;
    static Path root;
    static TlsMaterial gatewayCert;
    static TlsMaterial serverCert;
    static EmbeddedFtpServer plain;
    static EmbeddedFtpsServer explicitServer;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createDirectories(dir.resolve("root"));
        EmbeddedFtpServer.sampleRoot(root, 2 * 1024 * 1024 + 11);
        gatewayCert = DemoCertificate.create(Files.createDirectories(dir.resolve("gateway")));
        serverCert = DemoCertificate.create(Files.createDirectories(dir.resolve("server")));
        plain = new EmbeddedFtpServer(root, "127.0.0.1", true);
        explicitServer = new EmbeddedFtpsServer(root, serverCert, false, dir);
    }

    @AfterAll
    static void stop() {
        plain.close();
        explicitServer.close();
    }

    static Map<String, Object> clientLeg(String mode) {
        return clientLegFor(gatewayCert, mode);
    }

    static Map<String, Object> clientLegFor(TlsMaterial gatewayCert, String mode) {
        return Map.of("ftpgate.listeners.test.tls.mode", mode,
                "ftpgate.listeners.test.tls.certificate", gatewayCert.certificateFile().toString(),
                "ftpgate.listeners.test.tls.private-key", gatewayCert.keyFile().toString());
    }

    static Map<String, Object> serverLeg(String mode) {
        return Map.of("ftpgate.listeners.test.upstream-tls.mode", mode,
                "ftpgate.listeners.test.upstream-tls.verify", "fingerprint",
                "ftpgate.listeners.test.upstream-tls.fingerprint", serverCert.fingerprint());
    }

    static GatewayUnderTest gateway(Legs legs, Mode mode) throws Exception {
        Map<String, Object> m = new HashMap<>();
        String upstream = plain.port() + "";
        switch (legs) {
            case EXPLICIT_CLIENT_PLAIN_SERVER -> m.putAll(clientLeg("explicit"));
            case IMPLICIT_CLIENT_PLAIN_SERVER -> m.putAll(clientLeg("implicit"));
            case PLAIN_CLIENT_EXPLICIT_SERVER -> {
                m.putAll(serverLeg("explicit"));
                upstream = explicitServer.port() + "";
            }
            case EXPLICIT_CLIENT_EXPLICIT_SERVER -> {
                m.putAll(clientLeg("explicit"));
                m.putAll(serverLeg("explicit"));
                upstream = explicitServer.port() + "";
            }
            case IMPLICIT_CLIENT_FOLLOWED_BY_SERVER -> {
                m.putAll(clientLeg("implicit"));
                m.putAll(serverLeg("follow"));
                upstream = explicitServer.port() + "";
            }
        }
        String listen = mode.name().endsWith("_V6") ? "[::1]:0" : "127.0.0.1:0";
        return new GatewayUnderTest(listen, "127.0.0.1:" + upstream, m);
    }

    static FTPClient connect(GatewayUnderTest gw, Legs legs, Mode mode) throws Exception {
        boolean clientTls = legs != Legs.PLAIN_CLIENT_EXPLICIT_SERVER;
        boolean implicit = legs.name().startsWith("IMPLICIT_CLIENT");
        FTPClient c;
        if (clientTls) {
            FTPSClient s = new FTPSClient("TLS", implicit);
            s.setTrustManager(TrustManagerUtils.getAcceptAllTrustManager());
            c = s;
        } else {
            c = new FTPClient();
        }
        c.setConnectTimeout(5000);
        c.setDefaultTimeout(10000);
        c.setDataTimeout(Duration.ofSeconds(10));
        c.connect(gw.address().getAddress(), gw.address().getPort());
        // An explicit FTPS client has already sent AUTH TLS by now (Commons Net does it in connect).
        assertThat(c.getReplyCode()).as(c.getReplyString()).isEqualTo(clientTls && !implicit ? 234 : 220);
        assertThat(c.login("anonymous", "test@example.org")).as(c.getReplyString()).isTrue();
        if (c instanceof FTPSClient s) {
            s.execPBSZ(0);
            s.execPROT("P");
            assertThat(s.getReplyCode()).as(s.getReplyString()).isEqualTo(200);
        }
        assertThat(c.setFileType(FTP.BINARY_FILE_TYPE)).isTrue();
        switch (mode) {
            case PASV -> c.enterLocalPassiveMode();
            case EPSV, EPSV_V6 -> {
                c.enterLocalPassiveMode();
                c.setUseEPSVwithIPv4(true);
            }
            case PORT, EPRT_V6 -> c.enterLocalActiveMode();
        }
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Legs.class)
    void everyCombinationOfLegsCarriesListingsDownloadsAndUploads(Legs legs) throws Exception {
        transfers(legs, Mode.EPSV);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mode.class)
    void tlsOnBothLegsInEveryDataMode(Mode mode) throws Exception {
        transfers(Legs.EXPLICIT_CLIENT_EXPLICIT_SERVER, mode);
    }

    private void transfers(Legs legs, Mode mode) throws Exception {
        try (GatewayUnderTest gw = gateway(legs, mode)) {
            FTPClient c = connect(gw, legs, mode);
            for (int round = 0; round < 2; round++) { // several transfers in one session
                FTPFile[] files = c.listFiles();
                assertThat(Arrays.stream(files).map(FTPFile::getName)).as(c.getReplyString()).contains("hello.txt", "big.bin");
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                assertThat(c.retrieveFile("big.bin", out)).as(c.getReplyString()).isTrue();
                assertThat(out.toByteArray()).isEqualTo(Files.readAllBytes(root.resolve("big.bin")));
                byte[] upload = new byte[700_001];
                new Random(legs.ordinal() * 10 + round).nextBytes(upload);
                String name = "upload/" + legs + "-" + mode + "-" + round + ".bin";
                assertThat(c.storeFile(name, new ByteArrayInputStream(upload))).as(c.getReplyString()).isTrue();
                assertThat(Files.readAllBytes(root.resolve(name))).isEqualTo(upload);
            }
            c.logout();
            c.disconnect();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(gw.gateway.activeSessions()).isZero();
                assertThat(gw.firewall.active()).as("leases left behind").isEmpty();
            });
        }
    }

    @org.junit.jupiter.api.Test
    void abortDuringATlsDownloadLeavesTheSessionUsable() throws Exception {
        try (GatewayUnderTest gw = gateway(Legs.EXPLICIT_CLIENT_EXPLICIT_SERVER, Mode.EPSV)) {
            FTPClient c = connect(gw, Legs.EXPLICIT_CLIENT_EXPLICIT_SERVER, Mode.EPSV);
            try (java.io.InputStream in = c.retrieveFileStream("big.bin")) {
                assertThat(in).as(c.getReplyString()).isNotNull();
                assertThat(in.readNBytes(64 * 1024)).hasSize(64 * 1024);
                assertThat(c.abort()).as(c.getReplyString()).isTrue();
            }
            c.completePendingCommand();
            assertThat(c.sendNoOp()).as("the session goes on: " + c.getReplyString()).isTrue();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("hello.txt", out)).as(c.getReplyString()).isTrue();
            assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("hello through the gateway\n");
            c.logout();
            c.disconnect();
            gw.awaitNoSessionsNorLeases();
        }
    }
}
