package io.ftpgate.testing;

import io.ftpgate.tls.TlsMaterial;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import org.apache.ftpserver.FtpServer;
import org.apache.ftpserver.ssl.SslConfigurationFactory;

/**
 * Apache FtpServer with FTPS on a loopback port (explicit AUTH TLS, or implicit), anonymous with
 * write access to {@code root}, its certificate from PEM material (put in a PKCS#12 key store, which
 * is what FtpServer reads). It does not require TLS session reuse on data connections.
 */
public final class EmbeddedFtpsServer implements AutoCloseable {
    private final FtpServer server;
    private final int port;

    public EmbeddedFtpsServer(Path root, TlsMaterial cert, boolean implicit, Path workDir) throws Exception {
        this.port = EmbeddedFtpServer.freePort();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", cert.key(), "secret".toCharArray(), cert.chain().toArray(new Certificate[0]));
        Path store = workDir.resolve("ftpserver-" + port + ".p12");
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, "secret".toCharArray());
        }
        SslConfigurationFactory ssl = new SslConfigurationFactory();
        ssl.setKeystoreFile(store.toFile());
        ssl.setKeystorePassword("secret");
        ssl.setKeyPassword("secret");
        ssl.setKeystoreType("PKCS12");
        ssl.setSslProtocol("TLSv1.2");

        server = io.ftpgate.Demo.startServer(root, InetAddress.getLoopbackAddress().getHostAddress(), port, true,
                ssl.createSslConfiguration(), implicit);
    }

    public int port() {
        return port;
    }

    public String upstream() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        server.stop();
    }
}
