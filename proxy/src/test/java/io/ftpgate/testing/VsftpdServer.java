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
 * IPv6 on port 21 ({@code listen_ipv6=YES} binds {@code ::} dual-stack). Each connection and
 * transfer is logged with the client's address ({@link #clientAddresses()}).
 */
public final class VsftpdServer implements FtpServerUnderTest {

    public static final String SMALL = "small.txt";
    public static final String BIG = "big.bin";
    public static final String UPLOAD_DIR = "upload";
    public static final int PORT = 21;

    /** vsftpd's own log line for a new control connection: {@code CONNECT: Client "ADDRESS"}. */
    private static final java.util.regex.Pattern CONNECT =
            java.util.regex.Pattern.compile("CONNECT: Client \"(?:::ffff:)?([^\"]+)\"");

    private final Path anonRoot;
    private final Path log;
    private final Path transferLog;
    private final Process process;
    private final int port;

    private VsftpdServer(Path anonRoot, Path log, Path transferLog, Process process, int port) {
        this.port = port;
        this.anonRoot = anonRoot;
        this.log = log;
        this.transferLog = transferLog;
        this.process = process;
    }

    /** The server in the topology's server namespace. */
    public static VsftpdServer start(Topology topology) {
        return start(topology, topology.server, "vsftpd", "hello from vsftpd\n", 20261124L);
    }

    /**
     * Writes files and config, starts vsftpd in {@code ns} (of a {@link Topology} or a {@link NetnsLab})
     * and returns once port 21 accepts
     * connections. {@code name} names its directory in the work dir; {@link #SMALL} holds
     * {@code small} and {@link #BIG} is drawn from {@code seed}, so two servers can be told apart
     * by their files.
     */
    public static VsftpdServer start(NamespaceHosts topology, String ns, String name, String small, long seed) {
        return start(topology, ns, name, small, seed, PORT, java.util.List.of());
    }

    /**
     * vsftpd as {@link #start(Topology, String, String, String, long)}, listening on {@code port},
     * with {@code extraConfig} lines appended (e.g. {@code ssl_enable=YES}).
     */
    public static VsftpdServer start(NamespaceHosts topology, String ns, String name, String small, long seed, int port,
                                     java.util.List<String> extraConfig) {
        try {
            Path base = Files.createDirectories(topology.workDir().resolve(name));
            // vsftpd must be able to reach the root as user ftp, but refuses a root ftp may write.
            Files.setPosixFilePermissions(topology.workDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path root = Files.createDirectories(base.resolve("root"));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(root.resolve(SMALL), small);
            byte[] big = new byte[3 * 1024 * 1024];
            new Random(seed).nextBytes(big);
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
                    "listen_port=" + port,
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
                    // vsftpd's own format (not xferlog's): CONNECT and transfer lines with the client address.
                    "xferlog_enable=YES",
                    "xferlog_std_format=NO",
                    "vsftpd_log_file=" + base.resolve("transfers.log"),
                    "secure_chroot_dir=" + empty,
                    String.join("\n", extraConfig),
                    "") , StandardCharsets.US_ASCII);

            Path log = base.resolve("vsftpd.log");
            Process process = topology.start(ns, log, "/usr/sbin/vsftpd", conf.toString());
            VsftpdServer server = new VsftpdServer(root, log, base.resolve("transfers.log"), process, port);
            await("vsftpd listening on port " + port).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError("vsftpd exited with " + process.exitValue() + ": " + server.log());
                        }
                        return !topology.tryExec(ns, "ss", "-Hltn", "sport = :" + port).stdout().isBlank();
                    });
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return "vsftpd";
    }

    @Override
    public int port() {
        return port;
    }

    /** The anonymous root as seen from the test (the file system is shared by all namespaces). */
    @Override
    public Path root() {
        return anonRoot;
    }

    @Override
    public Path uploadDir() {
        return anonRoot.resolve(UPLOAD_DIR);
    }

    @Override
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** vsftpd's own log (connections, transfers and, with {@code debug_ssl=YES}, each TLS handshake). */
    public String transferLog() {
        try {
            return Files.exists(transferLog) ? Files.readString(transferLog) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The client address of every control connection so far, in order (IPv4-mapped shown as IPv4). */
    public java.util.List<String> clientAddresses() {
        try {
            if (!Files.exists(transferLog)) {
                return java.util.List.of();
            }
            return Files.readAllLines(transferLog).stream().map(CONNECT::matcher).filter(java.util.regex.Matcher::find)
                    .map(m -> m.group(1)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }
}
