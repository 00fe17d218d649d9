package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

/** The files every {@link FtpServerUnderTest} serves, written by the test before the server starts. */
public final class ServedFiles {

    private ServedFiles() {
    }

    /**
     * Creates {@code root} (world-readable, its parents made traversable up to the work dir) with
     * {@link VsftpdServer#SMALL} holding {@code small}, {@link VsftpdServer#BIG} (3 MiB drawn from
     * {@code seed}) and a world-writable {@link VsftpdServer#UPLOAD_DIR}; returns {@code root}.
     */
    public static Path populate(Topology topology, Path root, String small, long seed) {
        try {
            Files.setPosixFilePermissions(topology.workDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectories(root);
            for (Path dir = root; dir != null && dir.startsWith(topology.workDir()); dir = dir.getParent()) {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.writeString(root.resolve(VsftpdServer.SMALL), small);
            write(root.resolve(VsftpdServer.BIG), 3 * 1024 * 1024, seed);
            Path upload = Files.createDirectories(root.resolve(VsftpdServer.UPLOAD_DIR));
            Files.setPosixFilePermissions(upload, PosixFilePermissions.fromString("rwxrwxrwx"));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code size} bytes drawn from {@code seed} to {@code file} (readable by all). */
    public static Path write(Path file, int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        try {
            Files.write(file, bytes);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
