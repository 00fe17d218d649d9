package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Random;

import static org.awaitility.Awaitility.await;

/**
 * vsftpd in the server namespace, configured from scratch in the topology's work dir: anonymous
 * login, a read-only root with {@link #SMALL} and {@link #BIG} (3 MiB, fixed seed) and a writable
 * {@code upload/} directory, PASV/EPSV and PORT/EPRT all enabled, one process serving IPv4 and
 * IPv6 on port 21 ({@code listen_ipv6=YES} binds {@code ::} dual-stack).
 */
public final class VsftpdServer {

    public static final String SMALL = "small.txt";
    public static final String BIG = "big.bin";
    public static final String UPLOAD_DIR = "upload";
    public static final int PORT = 21;

    private final Path anonRoot;
    private final Path log;
    private final Process process;

    private VsftpdServer(Path anonRoot, Path log, Process process) {
        this.anonRoot = anonRoot;
        this.log = log;
        this.process = process;
    }

    /** Writes files and config, starts vsftpd and returns once port 21 accepts connections. */
    public static VsftpdServer start(Topology topology) {
        try {
            Path base = Files.createDirectories(topology.workDir().resolve("vsftpd"));
            // vsftpd must be able to reach the root as user ftp, but refuses a root ftp may write.
            Files.setPosixFilePermissions(topology.workDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path root = Files.createDirectories(base.resolve("root"));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(root.resolve(SMALL), "hello from vsftpd\n");
            byte[] big = new byte[3 * 1024 * 1024];
            new Random(20261124L).nextBytes(big);
            Files.write(root.resolve(BIG), big);
            Path upload = Files.createDirectories(root.resolve(UPLOAD_DIR));
            Files.setPosixFilePermissions(upload, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path empty = Files.createDirectories(base.resolve("empty"));
            Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("r-xr-xr-x"));

            Path conf = base.resolve("vsftpd.conf");
            Files.writeString(conf, String.join("\n",
                    "background=NO",
                    "listen=NO",
                    "listen_ipv6=YES",
                    "listen_port=" + PORT,
                    "anonymous_enable=YES",
                    "no_anon_password=YES",
                    "local_enable=NO",
                    "anon_root=" + root,
                    "write_enable=YES",
                    "anon_upload_enable=YES",
                    "anon_mkdir_write_enable=NO",
                    "anon_umask=022",
                    "dirlist_enable=YES",
                    "pasv_enable=YES",
                    "pasv_min_port=30000",
                    "pasv_max_port=30999",
                    "port_enable=YES",
                    "connect_from_port_20=NO",
                    "seccomp_sandbox=NO",
                    "xferlog_enable=NO",
                    "secure_chroot_dir=" + empty,
                    "") , StandardCharsets.US_ASCII);

            Path log = base.resolve("vsftpd.log");
            Process process = topology.start(topology.server, log, "/usr/sbin/vsftpd", conf.toString());
            VsftpdServer server = new VsftpdServer(root, log, process);
            await("vsftpd listening on port " + PORT).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError("vsftpd exited with " + process.exitValue() + ": " + server.log());
                        }
                        return !topology.exec(topology.server, "ss", "-Hltn", "sport = :" + PORT).stdout().isBlank();
                    });
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The anonymous root as seen from the test (the file system is shared by all namespaces). */
    public Path root() {
        return anonRoot;
    }

    public Path uploadDir() {
        return anonRoot.resolve(UPLOAD_DIR);
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }
}
