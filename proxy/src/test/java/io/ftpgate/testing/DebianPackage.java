package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Debian package's files, unpacked without installing it: Debian's FTP servers conflict with one
 * another (vsftpd, pure-ftpd, proftpd-core all provide {@code ftp-server}), so only vsftpd is
 * installed and the others are fetched with {@code apt-get download} and unpacked with
 * {@code dpkg-deb -x} into {@code target/debian-packages/NAME/}, once per build directory. Their
 * shared libraries must be installed (CI: {@code .ci/run}); a missing one is reported by name.
 */
public final class DebianPackage {

    private DebianPackage() {
    }

    /**
     * The unpacked {@code binary} (e.g. {@code usr/sbin/pure-ftpd}) of package {@code name},
     * fetched and unpacked on first use; skips (or, in CI, fails) when that is impossible.
     */
    public static Path binary(String name, String binary) {
        Path dir = cacheDir().resolve(name);
        Path file = dir.resolve(binary);
        if (!Files.isExecutable(file)) {
            unpack(name, dir);
        }
        if (!Files.isExecutable(file)) {
            RootTools.unavailable("package " + name + " has no " + binary);
        }
        ExecResult ldd = run(List.of("ldd", file.toString()), null);
        List<String> missing = ldd.stdout().lines().filter(l -> l.contains("not found")).map(String::strip).toList();
        if (!missing.isEmpty()) {
            RootTools.unavailable(file + " lacks shared libraries (install them with apt-get, see .ci/run): " + missing);
        }
        return file;
    }

    /**
     * A file (e.g. a shared module {@code usr/lib/proftpd/mod_tls.so}) of package {@code name},
     * fetched and unpacked on first use; skips (or, in CI, fails) when that is impossible.
     */
    public static Path file(String name, String path) {
        Path dir = cacheDir().resolve(name);
        Path file = dir.resolve(path);
        if (!Files.isRegularFile(file)) {
            unpack(name, dir);
        }
        if (!Files.isRegularFile(file)) {
            RootTools.unavailable("package " + name + " has no " + path);
        }
        return file;
    }

    private static Path cacheDir() {
        String jar = System.getProperty("ftpgate.jar");
        Path target = jar != null ? Path.of(jar).toAbsolutePath().getParent() : Path.of("target").toAbsolutePath();
        return target.resolve("debian-packages");
    }

    private static synchronized void unpack(String name, Path dir) {
        try {
            Path download = Files.createDirectories(cacheDir().resolve("downloads"));
            ExecResult fetched = run(List.of("apt-get", "download", name), download);
            if (!fetched.ok()) {
                RootTools.unavailable("cannot download Debian package " + name + ":\n" + fetched.describe());
            }
            Path deb;
            try (Stream<Path> files = Files.list(download)) {
                deb = files.filter(p -> p.getFileName().toString().startsWith(name + "_") && p.toString().endsWith(".deb"))
                        .findFirst().orElseThrow(() -> new AssertionError("apt-get download " + name + " left no .deb in " + download));
            }
            run(List.of("dpkg-deb", "-x", deb.toString(), dir.toString()), null).orThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ExecResult run(List<String> argv, Path cwd) {
        try {
            ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
            if (cwd != null) {
                builder.directory(cwd.toFile());
            }
            Process process = builder.start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!process.waitFor(Duration.ofMinutes(2).toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return new ExecResult(argv, ExecResult.TIMED_OUT, out, "");
            }
            return new ExecResult(argv, process.exitValue(), out, "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
