package io.ftpgate.testing;

import java.nio.file.Path;

/**
 * A real FTP server running in a namespace of a {@link Topology}, serving anonymous users a root
 * with {@link VsftpdServer#SMALL}, {@link VsftpdServer#BIG} and a writable
 * {@link VsftpdServer#UPLOAD_DIR}, passive and active mode, IPv4 and IPv6 on {@link #port()}.
 */
public interface FtpServerUnderTest {

    /** The program, e.g. {@code vsftpd}. */
    String name();

    int port();

    /** The anonymous root as seen from the test (the file system is shared by all namespaces). */
    Path root();

    default Path uploadDir() {
        return root().resolve(VsftpdServer.UPLOAD_DIR);
    }

    /** The server's own output and logs, for failure messages. */
    String log();

    boolean isAlive();
}
