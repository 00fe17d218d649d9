package io.ftpgate.testing.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import io.ftpgate.testing.VsftpdServer;

/**
 * The local files of one client session in {@link #dir()} and the remote names it works on. The
 * test prepares {@link #storSource()} and the prefix in {@link #restLocal()}; the client writes
 * {@link #listLocal()}, {@link #retrLocal()}, {@link #restLocal()} and {@link #againLocal()}.
 */
public record SessionFiles(Path dir, String upload) {

    /** The 10 MiB file every server serves for {@link Operation#ABOR}. */
    public static final String ABOR_REMOTE = "abor.bin";
    public static final int ABOR_SIZE = 10 * 1024 * 1024;
    /** How much of {@link VsftpdServer#BIG} is already there before the resumed download. */
    public static final int REST_OFFSET = 1_000_000;

    /**
     * Creates {@code dir} with the upload source (a copy of the server's big file) and the first
     * {@link #REST_OFFSET} bytes of it as the partial download; {@code upload} is the remote path.
     */
    public static SessionFiles prepare(Path dir, Path serverRoot, String upload) {
        try {
            Files.createDirectories(dir.resolve("rest"));
            byte[] big = Files.readAllBytes(serverRoot.resolve(VsftpdServer.BIG));
            Files.write(dir.resolve("stor.bin"), big);
            Files.write(dir.resolve("rest").resolve(VsftpdServer.BIG), Arrays.copyOf(big, REST_OFFSET));
            return new SessionFiles(dir, upload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path listLocal() {
        return dir.resolve("list.txt");
    }

    public Path retrLocal() {
        return dir.resolve("retr.bin");
    }

    public Path storSource() {
        return dir.resolve("stor.bin");
    }

    /** Named like the remote file, in a directory of its own: wget continues a file by its name. */
    public Path restLocal() {
        return dir.resolve("rest").resolve(VsftpdServer.BIG);
    }

    /** The small file fetched after the abort, in the same session. */
    public Path againLocal() {
        return dir.resolve("again.txt");
    }
}
