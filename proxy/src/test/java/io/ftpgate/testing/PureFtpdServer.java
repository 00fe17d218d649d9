package io.ftpgate.testing;

import java.nio.file.Path;
import java.util.List;

/**
 * Pure-FTPd (Debian's {@code pure-ftpd}, unpacked by {@link DebianPackage}) in the foreground in
 * a namespace, configured by its command line: anonymous users only, uploads allowed, every user
 * chrooted, passive ports 31000-31999, one socket per family on its port. Pure-FTPd takes
 * the anonymous root from the home directory of the system user {@code ftp} (vsftpd's package
 * creates it); the fixture bind-mounts its own root there in a private mount namespace
 * ({@code unshare --mount}), so nothing outside that process changes. Transfers are logged in CLF.
 */
public final class PureFtpdServer {

    private PureFtpdServer() {
    }

    /** Starts Pure-FTPd on {@code port} in {@code ns}; returns once it accepts connections. */
    public static RunningFtpServer start(Topology topology, String ns, int port, long seed) {
        Path binary = DebianPackage.binary("pure-ftpd", "usr/sbin/pure-ftpd");
        String[] ftpUser = topology.exec(ns, "getent", "passwd", "ftp").stdout().strip().split(":");
        if (ftpUser.length < 6) {
            RootTools.unavailable("Pure-FTPd serves anonymous users from the home of user 'ftp', which does not exist");
        }
        Path base = topology.workDir().resolve("pure-ftpd");
        Path root = ServedFiles.populate(topology, base.resolve("root"), "hello from pure-ftpd\n", seed);
        Path log = base.resolve("pure-ftpd.log");
        Path transfers = base.resolve("transfers.log");
        String command = String.join(" ",
                "mount --bind", root.toString(), ftpUser[5], "&&",
                "exec", binary.toString(),
                "--bind ," + port,
                "--anonymousonly",
                "--chrooteveryone",
                "--passiveportrange 31000:31999",
                "--dontresolve",
                "--syslogfacility none",
                "--altlog clf:" + transfers,
                "--maxclientsperip 50",
                "--maxclientsnumber 50");
        Process process = topology.start(ns, log, "unshare", "--mount", "--propagation", "private", "sh", "-c", command);
        return new RunningFtpServer("pure-ftpd", port, root, process, List.of(log, transfers)).awaitListening(topology, ns);
    }
}
