package io.ftpgate;

import io.ftpgate.tls.DemoCertificate;
import io.ftpgate.tls.TlsMaterial;
import io.ftpgate.tls.TlsMaterialException;
import java.util.Optional;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.firewall.FirewallException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.ftpserver.ConnectionConfigFactory;
import org.apache.ftpserver.DataConnectionConfigurationFactory;
import org.apache.ftpserver.FtpServer;
import org.apache.ftpserver.FtpServerFactory;
import org.apache.ftpserver.ftplet.Authority;
import org.apache.ftpserver.ftplet.FtpException;
import org.apache.ftpserver.ftplet.UserManager;
import org.apache.ftpserver.listener.ListenerFactory;
import org.apache.ftpserver.usermanager.PropertiesUserManagerFactory;
import org.apache.ftpserver.usermanager.impl.BaseUser;
import org.apache.ftpserver.usermanager.impl.WritePermission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --demo}: an embedded FTP server (Apache FtpServer, anonymous login, a few sample files, an
 * {@code upload/} folder) on a free loopback port, and a gateway in front of it on
 * 127.0.0.1:2121 with the {@code none} firewall, so that anyone can see ftpgate carry a session
 * on a fresh machine without root: {@code curl ftp://127.0.0.1:2121/}.
 */
public final class Demo implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Demo.class);
    static final String DEFAULT_LISTEN = "127.0.0.1:2121";

    private final FtpServer server;
    private final Gateway gateway;
    private final Path root;

    private Demo(FtpServer server, Gateway gateway, Path root) {
        this.server = server;
        this.gateway = gateway;
        this.root = root;
    }

    static Demo start(Settings base, List<String> listen) throws IOException, FirewallException, InterruptedException {
        Path root = Files.createTempDirectory("ftpgate-demo-");
        Files.writeString(root.resolve("README.txt"), """
                This file came from the demo FTP server through ftpgate.
                Try: curl ftp://127.0.0.1:2121/sample.bin -o sample.bin
                     curl -T somefile ftp://127.0.0.1:2121/upload/
                """, StandardCharsets.UTF_8);
        byte[] sample = new byte[1 << 20];
        new Random(42).nextBytes(sample);
        Files.write(root.resolve("sample.bin"), sample);
        Files.createDirectories(root.resolve("upload"));

        int port = freeLoopbackPort();
        FtpServer server = startServer(root, "127.0.0.1", port, true);
        Endpoint upstream = new Endpoint("127.0.0.1", port);
        List<Endpoint> addresses = (listen.isEmpty() ? List.of(DEFAULT_LISTEN) : listen).stream().map(Endpoint::parse).toList();
        // Explicit FTPS on the client leg with a certificate made now (outside the FTP root):
        // curl --ssl-reqd -k ftp://127.0.0.1:2121/ works as well as plain FTP.
        Path tlsDir = Files.createTempDirectory("ftpgate-demo-tls-");
        TlsMaterial cert;
        try {
            cert = DemoCertificate.create(tlsDir);
        } catch (TlsMaterialException e) {
            server.stop();
            throw new IOException(e.getMessage(), e);
        }
        Settings.ListenerTls tls = new Settings.ListenerTls(Settings.TlsMode.EXPLICIT, Optional.of(cert.certificateFile()),
                Optional.of(cert.keyFile()), List.of("TLSv1.3", "TLSv1.2"), false, true, Settings.DataSessionReuse.OPTIONAL);
        Settings settings = new Settings(
                List.of(new Settings.Listener("demo", Settings.Mode.EXPLICIT, addresses, upstream, tls, Settings.UpstreamTls.OFF)),
                base.control(), base.data(),
                new Settings.Firewall(Settings.Backend.NONE, base.firewall().chainPrefix(), false,
                        base.firewall().iptables(), base.firewall().ip6tables(), base.firewall().ipset(), List.of(),
                        base.firewall().commandTimeout(), base.firewall().nftables(), base.firewall().checkInterval()),
                base.metrics(), base.shutdownGrace(), base.transparent(), base.destinations(), base.drain(), base.instanceName(), base.abuse());
        Gateway gateway;
        try {
            gateway = Gateway.start(settings);
        } catch (IOException | FirewallException | InterruptedException | RuntimeException e) {
            server.stop();
            throw e;
        }
        log.info("demo: FTP server on 127.0.0.1:{} serving {}; try: curl ftp://{}/ (or FTPS: curl --ssl-reqd -k ftp://{}/)",
                port, root, addresses.get(0), addresses.get(0));
        return new Demo(server, gateway, root);
    }

    /**
     * Starts Apache FtpServer on {@code address:port}: anonymous login with write access to
     * {@code root}. Also the in-JVM test peer.
     */
    public static FtpServer startServer(Path root, String address, int port, boolean activeEnabled) throws IOException {
        return startServer(root, address, port, activeEnabled, null, false);
    }

    /**
     * The same with FTPS: {@code ssl} (null: none) on the control and data connections, AUTH TLS
     * or, with {@code implicit}, TLS from the first byte. The in-JVM FTPS test peer.
     */
    public static FtpServer startServer(Path root, String address, int port, boolean activeEnabled,
                                        org.apache.ftpserver.ssl.SslConfiguration ssl, boolean implicit) throws IOException {
        FtpServerFactory factory = new FtpServerFactory();
        ListenerFactory listener = new ListenerFactory();
        listener.setServerAddress(address);
        listener.setPort(port);
        DataConnectionConfigurationFactory data = new DataConnectionConfigurationFactory();
        data.setActiveEnabled(activeEnabled);
        data.setActiveIpCheck(false);
        if (ssl != null) {
            listener.setSslConfiguration(ssl);
            listener.setImplicitSsl(implicit);
            data.setSslConfiguration(ssl);
            data.setImplicitSsl(implicit);
        }
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
        try {
            users.save(anonymous);
            factory.setUserManager(users);
            FtpServer server = factory.createServer();
            server.start();
            return server;
        } catch (FtpException e) {
            throw new IOException("embedded FTP server: " + e.getMessage(), e);
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private boolean closed;

    Gateway gateway() {
        return gateway;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        gateway.close();
        server.stop();
        log.info("demo stopped; its files stay in {}", root);
    }
}
