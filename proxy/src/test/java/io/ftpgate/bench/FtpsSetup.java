package io.ftpgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

/**
 * One FTPS setup under measurement, in three namespaces of its own (client — gateway — vsftpd).
 * vsftpd requires TLS for login and data, with {@code require_ssl_reuse=YES} and
 * {@code strict_ssl_read_eof=YES}; curl ({@code --ssl-reqd -k}: AUTH TLS, PBSZ 0, PROT P) is the
 * client, in PASV:
 * <ul>
 *   <li>{@code direct-ftps}: the gateway only routes; curl and vsftpd do TLS end to end;
 *   <li>{@code ftpgate-ftps}: ftpgate (the shaded jar, INPUT DROP, no routing) terminates TLS on
 *       both legs: explicit FTPS towards curl, explicit FTPS towards vsftpd (its certificate checked
 *       with {@code verify = ca-file}), {@code tls.provider = jdk};
 *   <li>{@code ftpgate-ftps-openssl}: the same with {@code tls.provider = openssl} (BoringSSL of
 *       netty-tcnative); not measured where ftpgate refuses it.
 * </ul>
 * Each transfer's byte count is checked, and the setup's first download and upload are compared
 * by SHA-256, so a broken transfer cannot pass as a fast one. For ftpgate the JVM's CPU time
 * (utime + stime of {@code /proc/PID/stat}, all threads) is read around each transfer.
 */
final class FtpsSetup implements AutoCloseable {

    enum Kind implements Labelled {
        DIRECT("direct-ftps", null), FTPGATE_JDK("ftpgate-ftps", "jdk"), FTPGATE_OPENSSL("ftpgate-ftps-openssl", "openssl");

        final String label;
        /** ftpgate's {@code tls.provider}; null: no ftpgate. */
        final String provider;

        Kind(String label, String provider) {
            this.label = label;
            this.provider = provider;
        }

        @Override
        public String label() {
            return label;
        }
    }

    /** One transfer: curl's speed, and the gateway's CPU seconds per GiB (NaN without a gateway). */
    record Sample(double mibPerSecond, double cpuSecondsPerGib) {
    }

    static final String RETR_FILE = "ftps-retr.bin";
    private static final double GIB = 1024.0 * 1024 * 1024;
    private static final Pattern TLS_LINE = Pattern.compile("SSL connection using (\\S+) / (\\S+)");

    final Kind kind;
    final Topology topology;
    final VsftpdServer server;
    final FtpGateDaemon daemon;
    final FtpEndpoint endpoint;
    /** Why this setup is not measured; null if it is. */
    final String unavailable;
    /** What curl negotiated on the control connection of the check, e.g. {@code TLSv1.3 / TLS_AES_256_GCM_SHA384}. */
    private String negotiated = "?";
    private int uploads;

    private FtpsSetup(Kind kind, Topology topology, VsftpdServer server, FtpGateDaemon daemon, String unavailable) {
        this.kind = kind;
        this.topology = topology;
        this.server = server;
        this.daemon = daemon;
        this.endpoint = daemon != null ? FtpGateDaemon.V4 : new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT);
        this.unavailable = unavailable;
    }

    /**
     * Builds the setup with {@code retrFile} (hard-linked, else copied) as the file to download,
     * checks one download and one upload of {@code upload} against their SHA-256; nothing is left
     * behind on failure.
     */
    static FtpsSetup start(Kind kind, Path retrFile, String retrSha256, Path upload, String uploadSha256) {
        Topology topology = Topology.create(kind == Kind.DIRECT ? Topology.Kind.ROUTER : Topology.Kind.GATEWAY);
        try {
            Path tls = Files.createDirectories(topology.workDir().resolve("tls"));
            Files.setPosixFilePermissions(topology.workDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(tls, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path[] serverPem = selfSigned(tls, "vsftpd", new CertificateBuilder().subject("CN=ftpgate bench vsftpd")
                    .addSanIpAddress(Topology.SERVER_V4).addSanIpAddress(Topology.SERVER_V6));
            VsftpdServer server = VsftpdServer.start(topology, topology.server, "vsftpd", "hello over FTPS\n", 20261205L,
                    VsftpdServer.PORT, List.of(
                            "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                            "rsa_cert_file=" + serverPem[0], "rsa_private_key_file=" + serverPem[1],
                            "require_ssl_reuse=YES", "strict_ssl_read_eof=YES", "strict_ssl_write_shutdown=YES",
                            "ssl_request_cert=NO"));
            Path served = server.root().resolve(RETR_FILE);
            try {
                Files.createLink(served, retrFile);
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(retrFile, served);
            }
            FtpGateDaemon daemon = null;
            if (kind != Kind.DIRECT) {
                Path[] gatewayPem = selfSigned(tls, "ftpgate", new CertificateBuilder().subject("CN=ftpgate bench gateway")
                        .addSanIpAddress(Topology.GATEWAY_CLIENT_SIDE_V4));
                String config = String.join("\n",
                        "  tls.provider = " + kind.provider,
                        "  listener-defaults.tls { mode = explicit, certificate = \"" + gatewayPem[0]
                                + "\", private-key = \"" + gatewayPem[1] + "\" }",
                        "  listener-defaults.upstream-tls { mode = explicit, verify = ca-file, ca-file = \""
                                + serverPem[0] + "\" }");
                try {
                    daemon = FtpGateDaemon.start(topology, List.of(Topology.JAVA, "-Xmx512m"), config);
                } catch (AssertionError e) {
                    String refusal = e.getMessage().lines().filter(l -> l.contains("tls.provider")).findFirst().orElse(null);
                    if (kind == Kind.FTPGATE_OPENSSL && refusal != null) {
                        return new FtpsSetup(kind, topology, server, null, "ftpgate refused tls.provider = openssl: " + refusal);
                    }
                    throw e;
                }
            }
            FtpsSetup setup = new FtpsSetup(kind, topology, server, daemon, null);
            String broken = setup.check(retrSha256, upload, uploadSha256);
            return broken == null ? setup : new FtpsSetup(kind, topology, server, daemon, broken);
        } catch (IOException e) {
            topology.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    /** A self-signed certificate (its own CA, so ftpgate can trust it as ca-file); chain and key files. */
    private static Path[] selfSigned(Path dir, String name, CertificateBuilder builder) throws IOException {
        try {
            X509Bundle bundle = builder.rsa2048().setIsCertificateAuthority(true).buildSelfSigned();
            Path chain = Files.writeString(dir.resolve(name + ".pem"), bundle.getCertificatePathPEM());
            Path key = Files.writeString(dir.resolve(name + ".key"), bundle.getPrivateKeyPEM());
            Files.setPosixFilePermissions(chain, PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
            return new Path[] {chain, key};
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a certificate for " + name, e);
        }
    }

    /** One download to a file and one upload, compared by SHA-256; the reason if either is wrong. */
    private String check(String retrSha256, Path upload, String uploadSha256) {
        Path local = topology.workDir().resolve("ftps-check.bin");
        try {
            ExecResult got = curl(List.of("-v", "-o", local.toString()), RETR_FILE);
            if (!got.ok()) {
                return "the check download failed" + gatewayComplaints() + ": " + got.describe();
            }
            Matcher m = TLS_LINE.matcher(got.stderr());
            if (m.find()) {
                negotiated = m.group(1) + " / " + m.group(2);
            }
            String sha = sha256(local);
            if (!sha.equals(retrSha256)) {
                return "the check download has SHA-256 " + sha + ", not " + retrSha256;
            }
            String name = "ftps-check-up.bin";
            ExecResult put = curl(List.of("-T", upload.toString()), VsftpdServer.UPLOAD_DIR + "/" + name);
            if (!put.ok()) {
                return "the check upload failed" + gatewayComplaints() + ": " + put.describe();
            }
            Path stored = server.uploadDir().resolve(name);
            String storedSha = sha256(stored);
            Files.delete(stored);
            if (!storedSha.equals(uploadSha256)) {
                return "the check upload arrived with SHA-256 " + storedSha + ", not " + uploadSha256;
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            local.toFile().delete();
        }
    }

    /** What the check negotiated between curl and its peer (vsftpd or ftpgate). */
    String negotiated() {
        return negotiated;
    }

    /** Downloads {@link #RETR_FILE} ({@code bytes} long) to /dev/null. */
    Sample retrieve(long bytes) {
        long before = cpuTicks();
        ExecResult result = curl(List.of("-o", "/dev/null", "-w", "%{speed_download} %{size_download}"), RETR_FILE);
        return sample(result, bytes, before);
    }

    /** Uploads {@code local} ({@code bytes} long); the uploaded file's size is checked, then it is deleted. */
    Sample store(Path local, long bytes) {
        String name = "ftps-bench-" + ++uploads + ".bin";
        long before = cpuTicks();
        ExecResult result = curl(List.of("-T", local.toString(), "-w", "%{speed_upload} %{size_upload}"),
                VsftpdServer.UPLOAD_DIR + "/" + name);
        Sample sample = sample(result, bytes, before);
        Path stored = server.uploadDir().resolve(name);
        try {
            long size = Files.size(stored);
            Files.delete(stored);
            if (size != bytes) {
                throw new BenchSetup.BenchFailure("vsftpd stored " + size + " bytes of " + bytes);
            }
        } catch (IOException e) {
            throw new BenchSetup.BenchFailure("no upload at " + stored + ": " + e);
        }
        return sample;
    }

    private Sample sample(ExecResult result, long bytes, long ticksBefore) {
        long ticks = cpuTicks() - ticksBefore;
        if (!result.ok()) {
            throw new BenchSetup.BenchFailure(result.describe() + gatewayComplaints());
        }
        String[] speedAndSize = result.stdout().strip().split(" ");
        long moved = (long) Double.parseDouble(speedAndSize[1]);
        if (moved != bytes) {
            throw new BenchSetup.BenchFailure("curl moved " + moved + " bytes of " + bytes);
        }
        double cpu = daemon == null ? Double.NaN : (double) ticks / CpuTime.TICKS_PER_SECOND / (bytes / GIB);
        return new Sample(Double.parseDouble(speedAndSize[0]) / (1024 * 1024), cpu);
    }

    private long cpuTicks() {
        return daemon == null ? 0 : CpuTime.ticks(daemon.pid());
    }

    /** curl with TLS required on the control and data connections (AUTH TLS, PBSZ 0, PROT P), any certificate. */
    private ExecResult curl(List<String> options, String path) {
        List<String> argv = new ArrayList<>(List.of("--ssl-reqd", "-k"));
        argv.addAll(options);
        return BenchSetup.curl(topology, endpoint, Duration.ofMinutes(5), FtpMode.PASV, argv, path);
    }

    private String gatewayComplaints() {
        return BenchSetup.complaints(daemon);
    }

    static String sha256(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            var digest = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return java.util.HexFormat.of().formatHex(digest.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        topology.close();
    }
}
