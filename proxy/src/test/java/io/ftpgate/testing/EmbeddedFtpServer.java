package io.ftpgate.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.ftpserver.ConnectionConfigFactory;
import org.apache.ftpserver.DataConnectionConfigurationFactory;
import org.apache.ftpserver.FtpServer;
import org.apache.ftpserver.FtpServerFactory;
import org.apache.ftpserver.ftplet.Authority;
import org.apache.ftpserver.ftplet.UserManager;
import org.apache.ftpserver.listener.ListenerFactory;
import org.apache.ftpserver.usermanager.PropertiesUserManagerFactory;
import org.apache.ftpserver.usermanager.impl.BaseUser;
import org.apache.ftpserver.usermanager.impl.WritePermission;

/** Apache FtpServer on a loopback port, anonymous with write access to a temporary root. */
public final class EmbeddedFtpServer implements AutoCloseable {
    private final FtpServer server;
    private final int port;
    private final Path root;

    public EmbeddedFtpServer(Path root, String bindAddress, boolean activeEnabled) throws Exception {
        this.root = root;
        this.port = freePort();
        FtpServerFactory factory = new FtpServerFactory();
        ListenerFactory listener = new ListenerFactory();
        listener.setServerAddress(bindAddress);
        listener.setPort(port);
        DataConnectionConfigurationFactory data = new DataConnectionConfigurationFactory();
        data.setActiveEnabled(activeEnabled);
        data.setActiveIpCheck(false);
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

    public Path root() {
        return root;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        server.stop();
    }

    public static Path sampleRoot(Path dir, int bigSize) throws IOException {
        Files.writeString(dir.resolve("hello.txt"), "hello through the gateway\n");
        byte[] big = new byte[bigSize];
        new java.util.Random(7).nextBytes(big);
        Files.write(dir.resolve("big.bin"), big);
        Files.createDirectories(dir.resolve("upload"));
        Files.createDirectories(dir.resolve("d\u00e9j\u00e0 vu"));
        return dir;
    }
}
