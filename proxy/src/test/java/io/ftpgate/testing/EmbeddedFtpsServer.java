package io.ftpgate.testing;

import io.ftpgate.tls.TlsMaterial;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import org.apache.ftpserver.DataConnectionConfigurationFactory;
import org.apache.ftpserver.FtpServer;
import org.apache.ftpserver.FtpServerFactory;
import org.apache.ftpserver.ConnectionConfigFactory;
import org.apache.ftpserver.ftplet.Authority;
import org.apache.ftpserver.ftplet.UserManager;
import org.apache.ftpserver.listener.ListenerFactory;
import org.apache.ftpserver.ssl.SslConfigurationFactory;
import org.apache.ftpserver.usermanager.PropertiesUserManagerFactory;
import org.apache.ftpserver.usermanager.impl.BaseUser;
import org.apache.ftpserver.usermanager.impl.WritePermission;

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

        FtpServerFactory factory = new FtpServerFactory();
        ListenerFactory listener = new ListenerFactory();
        listener.setServerAddress(InetAddress.getLoopbackAddress().getHostAddress());
        listener.setPort(port);
        listener.setSslConfiguration(ssl.createSslConfiguration());
        listener.setImplicitSsl(implicit);
        DataConnectionConfigurationFactory data = new DataConnectionConfigurationFactory();
        data.setActiveEnabled(true);
        data.setActiveIpCheck(false);
        data.setImplicitSsl(implicit);
        data.setSslConfiguration(ssl.createSslConfiguration());
        listener.setDataConnectionConfiguration(data.createDataConnectionConfiguration());
        factory.addListener("default", listener.createListener());
        ConnectionConfigFactory connections = new ConnectionConfigFactory();
        connections.setAnonymousLoginEnabled(true);
        factory.setConnectionConfig(connections.createConnectionConfig());
        UserManager users = new PropertiesUserManagerFactory().createUserManager();
        BaseUser anonymous = new BaseUser();
        anonymous.setName("anonymous");
        anonymous.setHomeDirectory(root.toString());
        anonymous.setAuthorities(List.<Authority>of(new WritePermission()));
        users.save(anonymous);
        factory.setUserManager(users);
        server = factory.createServer();
        server.start();
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
