package io.ftpgate.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ftpserver.FtpServer;

/** Apache FtpServer on a loopback port, anonymous with write access to a temporary root. */
public final class EmbeddedFtpServer implements AutoCloseable {
    private final FtpServer server;
    private final int port;
    private final Path root;

    public EmbeddedFtpServer(Path root, String bindAddress, boolean activeEnabled) throws Exception {
        this.root = root;
        this.port = freePort();
        server = io.ftpgate.Demo.startServer(root, bindAddress, port, activeEnabled);
    }

    public int port() {
        return port;
    }

    public Path root() {
        return root;
    }

    /** A loopback port nothing listens on (bound and released), also for "connection refused". */
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
