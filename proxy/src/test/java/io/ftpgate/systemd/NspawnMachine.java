package io.ftpgate.systemd;

import static org.awaitility.Awaitility.await;

import io.ftpgate.firewall.process.CommandRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away machine booted by systemd, for running a deployment the way an admin would: the
 * host's own root file system under a writable overlay held in memory, booted with
 * {@code systemd-nspawn --boot}, so systemd is PID 1 of the machine, with a network namespace of its
 * own holding only {@code lo}. Nothing the machine writes reaches the host's files; {@link #close()}
 * powers it off, unmounts the overlay and removes the control groups it made, whatever happened.
 *
 * <p>Why this shape: CI runs without systemd as init and without machined, so nspawn runs with
 * {@code --register=no --keep-unit}, in control groups of its own made here. The host's enabled
 * units ({@code /etc/systemd/system/*.wants}) are disabled in the overlay, so the machine boots what
 * a fresh system with these packages would (and a container image's {@code policy-rc.d}, which
 * forbids packages to start services, is removed). Commands run inside with {@code nsenter} into the
 * machine's init, with the environment of a root login rather than the build's.
 */
final class NspawnMachine implements AutoCloseable {
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POWEROFF_TIMEOUT = Duration.ofSeconds(60);
    private static final List<String> ROOT_ENV = List.of("env", "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
            "TERM=dumb", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0");

    private final CommandRunner runner = new CommandRunner();
    private final String name;
    private final Path mnt;
    private final Path root;
    private final Path bootLog;
    private final List<Path> cgroups = new ArrayList<>();
    private final List<Path> mounts = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::closeQuietly, "nspawn-machine-cleanup");
    private Process nspawn;
    private long init;

    private NspawnMachine(String name, Path dir) {
        this.name = name;
        this.mnt = dir.resolve("mnt").toAbsolutePath();
        this.root = mnt.resolve("root");
        this.bootLog = dir.resolve("boot.log").toAbsolutePath();
    }

    /**
     * Boots a machine called {@code name} (also its host name) and returns once systemd reports
     * the boot finished ({@code systemctl is-system-running --wait}). {@code dir} (created) keeps the
     * console log after {@link #close()}; the overlay is mounted below it.
     */
    static NspawnMachine boot(String name, Path dir) throws IOException {
        NspawnMachine machine = new NspawnMachine(name, Files.createDirectories(dir));
        Runtime.getRuntime().addShutdownHook(machine.shutdownHook);
        try {
            machine.mountOverlay();
            machine.disableHostUnits();
            machine.allowServiceActions();
            machine.start();
            machine.awaitBoot();
            return machine;
        } catch (IOException | RuntimeException | Error e) {
            e.addSuppressed(new AssertionError("console of machine " + name + ":\n" + machine.bootLog()));
            machine.closeQuietly(e);
            throw e;
        }
    }

    /** The machine's {@code /}, as the host sees it: files written here appear inside. */
    Path root() {
        return root;
    }

    /** Runs argv inside the machine as root, waits for it, and returns what it left. */
    CommandRunner.Result exec(String... argv) {
        return exec(List.of(argv));
    }

    CommandRunner.Result exec(List<String> argv) {
        List<String> all = new ArrayList<>(List.of("nsenter", "--target", Long.toString(init), "--all"));
        all.addAll(ROOT_ENV);
        all.addAll(argv);
        try {
            return runner.run(all, COMMAND_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The console output so far: systemd's boot and shutdown messages, nspawn's errors. */
    String bootLog() {
        try {
            return Files.exists(bootLog) ? Files.readString(bootLog) : "(no console log)";
        } catch (IOException e) {
            return "(console log unreadable: " + e + ")";
        }
    }

    private void mountOverlay() throws IOException {
        Files.createDirectories(mnt);
        mount("-t", "tmpfs", "-o", "mode=0755", "ftpgate-nspawn", mnt.toString());
        mounts.add(mnt);
        for (String d : List.of("upper", "work", "root")) {
            Files.createDirectory(mnt.resolve(d));
        }
        mount("-t", "overlay", "-o", "lowerdir=/,upperdir=" + mnt.resolve("upper") + ",workdir=" + mnt.resolve("work"),
                "ftpgate-nspawn", root.toString());
        mounts.add(root);
    }

    /** Removes the host's enablement links in the overlay (whiteouts there; the host keeps its own). */
    private void disableHostUnits() throws IOException {
        Path etc = root.resolve("etc/systemd/system");
        if (!Files.isDirectory(etc)) {
            return;
        }
        try (Stream<Path> dirs = Files.list(etc)) {
            for (Path wants : dirs.filter(p -> p.getFileName().toString().matches(".*\\.(wants|requires)")).toList()) {
                try (Stream<Path> links = Files.list(wants)) {
                    for (Path link : links.toList()) {
                        Files.delete(link);
                    }
                }
            }
        }
    }

    /**
     * Removes a container image's {@code /usr/sbin/policy-rc.d} (Docker's says 101, "action
     * forbidden") in the overlay: on a real system packages' maintainer scripts may start, restart
     * and stop services through {@code deb-systemd-invoke}, which asks that script first.
     */
    private void allowServiceActions() throws IOException {
        Files.deleteIfExists(root.resolve("usr/sbin/policy-rc.d"));
    }

    private void start() throws IOException {
        for (Path hierarchy : cgroupHierarchies()) {
            Path group = hierarchy.resolve(name);
            Files.createDirectory(group);
            cgroups.add(group);
        }
        // The shell moves itself into the machine's groups, then becomes systemd-nspawn.
        List<String> argv = new ArrayList<>(List.of("sh", "-c",
                "for g in $FTPGATE_CGROUPS; do echo $$ > \"$g/cgroup.procs\" || exit 1; done; exec \"$@\"", "sh",
                "systemd-nspawn", "--quiet", "--boot", "--directory=" + root, "--machine=" + name,
                "--private-network", "--register=no", "--keep-unit"));
        ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(bootLog.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().put("FTPGATE_CGROUPS", String.join(" ", cgroups.stream().map(Path::toString).toList()));
        nspawn = builder.start();
        init = await("the machine's init").atMost(BOOT_TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(this::findInit, Optional::isPresent).orElseThrow();
    }

    /** nspawn's child whose program is systemd: the machine's PID 1. */
    private Optional<Long> findInit() {
        if (!nspawn.isAlive()) {
            throw new AssertionError("systemd-nspawn exited with " + nspawn.exitValue() + ":\n" + bootLog());
        }
        return nspawn.children().filter(p -> p.info().command().filter(c -> c.endsWith("/systemd")).isPresent())
                .map(ProcessHandle::pid).findFirst();
    }

    private void awaitBoot() {
        await("boot finished").atMost(BOOT_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!nspawn.isAlive()) {
                throw new AssertionError("systemd-nspawn exited with " + nspawn.exitValue() + ":\n" + bootLog());
            }
            // Fails until PID 1 answers; then waits for the boot to finish.
            String state = exec("systemctl", "is-system-running", "--wait").stdout().strip();
            return state.equals("running") || state.equals("degraded");
        });
    }

    /**
     * Where nspawn's control groups go: below the root of each writable hierarchy systemd uses
     * (the named v1 hierarchy and the v2 one of a hybrid layout, or the v2 root of a unified one).
     */
    private static List<Path> cgroupHierarchies() {
        Path fs = Path.of("/sys/fs/cgroup");
        if (Files.isRegularFile(fs.resolve("cgroup.procs"))) {
            return List.of(fs);
        }
        return Stream.of(fs.resolve("systemd"), fs.resolve("unified"))
                .filter(p -> Files.isRegularFile(p.resolve("cgroup.procs"))).toList();
    }

    private void mount(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("mount"));
        argv.addAll(List.of(args));
        CommandRunner.Result result = runner.run(argv, COMMAND_TIMEOUT);
        if (!result.ok()) {
            throw new IOException(String.join(" ", argv) + ": " + result.failure());
        }
    }

    /**
     * Powers the machine off (SIGTERM to nspawn, which asks PID 1 to shut down), kills it if it does
     * not go, unmounts the overlay and removes the control groups. Every step is tried; the first
     * failure is thrown at the end.
     */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // called from the hook itself
        }
        List<String> problems = new ArrayList<>();
        if (nspawn != null && nspawn.isAlive()) {
            nspawn.destroy();
            if (!waitFor(nspawn, POWEROFF_TIMEOUT)) {
                problems.add("the machine did not power off within " + POWEROFF_TIMEOUT + "; killed");
                ProcessHandle.of(init).ifPresent(ProcessHandle::destroyForcibly); // ends its PID namespace
                nspawn.destroyForcibly();
                waitFor(nspawn, POWEROFF_TIMEOUT);
            }
        }
        for (int i = mounts.size() - 1; i >= 0; i--) {
            Path mount = mounts.get(i);
            try {
                CommandRunner.Result result = runner.run(List.of("umount", mount.toString()), COMMAND_TIMEOUT);
                if (!result.ok()) {
                    problems.add("umount " + mount + ": " + result.failure() + "; detached lazily");
                    runner.run(List.of("umount", "--lazy", mount.toString()), COMMAND_TIMEOUT);
                }
            } catch (IOException e) {
                problems.add("umount " + mount + ": " + e);
            }
        }
        mounts.clear();
        try {
            Files.deleteIfExists(mnt);
        } catch (IOException e) {
            problems.add("rmdir " + mnt + ": " + e);
        }
        for (Path group : cgroups) {
            // A control group directory goes with rmdir once it and its children hold no process.
            try (Stream<Path> tree = Files.walk(group)) {
                for (Path dir : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(dir);
                }
            } catch (IOException | UncheckedIOException e) {
                problems.add("removing control group " + group + ": " + e);
            }
        }
        cgroups.clear();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cleaning up machine " + name + ": " + String.join("; ", problems));
        }
    }

    private void closeQuietly() {
        closeQuietly(null);
    }

    private void closeQuietly(Throwable cause) {
        try {
            close();
        } catch (RuntimeException e) {
            if (cause != null) {
                cause.addSuppressed(e);
            } else {
                System.err.println(e.getMessage());
            }
        }
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
