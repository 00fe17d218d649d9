package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user checks after a transfer: the listing names the files, a downloaded file has the
 * source's SHA-256, an uploaded file arrives in the server's upload directory intact.
 */
public final class TransferChecks {

    private final Topology topology;
    private final VsftpdServer server;
    private final Path scratch;

    public TransferChecks(Topology topology, VsftpdServer server) {
        this.topology = topology;
        this.server = server;
        try {
            this.scratch = Files.createDirectories(topology.workDir().resolve("client-files"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void list(FtpClientTool tool, FtpEndpoint endpoint, FtpMode mode) {
        ExecResult result = tool.list(topology, endpoint, mode);
        assertThat(result.ok()).as("%s LIST in %s via %s:\n%s", tool.name(), mode, endpoint, result.describe()).isTrue();
        assertThat(result.stdout()).as("%s LIST in %s via %s lists the root:\n%s", tool.name(), mode, endpoint, result.describe())
                .contains(VsftpdServer.SMALL, VsftpdServer.BIG, VsftpdServer.UPLOAD_DIR);
    }

    public void retrieve(FtpClientTool tool, FtpEndpoint endpoint, FtpMode mode, String tag) {
        Path local = scratch.resolve("get-" + tag + ".bin");
        ExecResult result = tool.retrieve(topology, endpoint, mode, VsftpdServer.BIG, local);
        assertThat(result.ok()).as("%s RETR in %s via %s:\n%s", tool.name(), mode, endpoint, result.describe()).isTrue();
        assertThat(sha256(local)).as("sha256 of downloaded %s", VsftpdServer.BIG)
                .isEqualTo(sha256(server.root().resolve(VsftpdServer.BIG)));
    }

    public void store(FtpClientTool tool, FtpEndpoint endpoint, FtpMode mode, String tag) {
        Path local = server.root().resolve(VsftpdServer.BIG);
        String name = "put-" + tag + ".bin";
        ExecResult result = tool.store(topology, endpoint, mode, local, VsftpdServer.UPLOAD_DIR + "/" + name);
        assertThat(result.ok()).as("%s STOR in %s via %s:\n%s", tool.name(), mode, endpoint, result.describe()).isTrue();
        Path arrived = server.uploadDir().resolve(name);
        assertThat(arrived).as("uploaded file on the server").exists();
        assertThat(sha256(arrived)).as("sha256 of uploaded file").isEqualTo(sha256(local));
    }

    public static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
