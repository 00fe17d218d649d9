package io.ftpgate.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;

/**
 * Guard for tests that need root and system tools (network namespaces, iptables, vsftpd...).
 * On a developer machine a missing precondition skips the test with the reason; in CI (env
 * {@code CI} set) it fails, so a misconfigured runner cannot pass by skipping everything.
 */
public final class RootTools {

    private RootTools() {
    }

    public static void requireRootAndTools(String... tools) {
        List<String> missing = new ArrayList<>();
        if (!isRoot()) {
            missing.add("root (uid 0)");
        }
        for (String tool : tools) {
            if (!onPath(tool)) {
                missing.add("'" + tool + "' on PATH");
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        unavailable("netns tests need " + String.join(", ", missing));
    }

    /** Skips the test with {@code reason} or, in CI, fails it: a precondition the machine does not meet. */
    public static void unavailable(String reason) {
        String ci = System.getenv("CI");
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
            throw new AssertionError(reason + " (CI is set, so this is a failure, not a skip)");
        }
        // Surefire shows a class whose @BeforeAll skips as "Tests run: 0", without the reason.
        System.err.println("[SKIPPED] " + StackWalker.getInstance().walk(frames -> frames
                .map(StackWalker.StackFrame::getClassName).filter(name -> name.endsWith("IT") || name.endsWith("Test"))
                .findFirst().orElse("a test")) + ": " + reason);
        Assumptions.assumeTrue(false, reason);
    }

    /** Like {@link #requireRootAndTools}, for tools that need no root (a skip, or a failure under CI). */
    public static void requireTools(String... tools) {
        List<String> missing = new ArrayList<>();
        for (String tool : tools) {
            if (!onPath(tool)) {
                missing.add("'" + tool + "' on PATH");
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        unavailable("this test needs " + String.join(", ", missing));
    }

    private static boolean isRoot() {
        try {
            // /proc/self belongs to the effective uid of the reading process.
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
