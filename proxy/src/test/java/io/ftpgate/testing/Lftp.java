package io.ftpgate.testing;

import java.nio.file.Path;

/**
 * lftp as FTP client, driven by {@code lftp -c}. {@code ftp:passive-mode} picks passive or
 * active, {@code ftp:prefer-epsv} EPSV over PASV. In active mode lftp sends PORT on IPv4 and EPRT
 * on IPv6 and has no switch for EPRT over IPv4, so that combination is unsupported. The control
 * dialogue ({@code debug 3}) is on stderr.
 */
public final class Lftp implements FtpClientTool {

    @Override
    public String name() {
        return "lftp";
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        if (!mode.usableOver(ipv6Control)) {
            return false;
        }
        return switch (mode) {
            case EPRT -> ipv6Control;
            case PASV, EPSV, PORT -> true;
        };
    }

    @Override
    public ExecResult list(Topology topology, FtpEndpoint endpoint, FtpMode mode) {
        return run(topology, endpoint, mode, "ls");
    }

    @Override
    public ExecResult retrieve(Topology topology, FtpEndpoint endpoint, FtpMode mode, String remote, Path local) {
        return run(topology, endpoint, mode, "get " + remote + " -o " + local);
    }

    @Override
    public ExecResult store(Topology topology, FtpEndpoint endpoint, FtpMode mode, Path local, String remote) {
        return run(topology, endpoint, mode, "put " + local + " -o " + remote);
    }

    /** Several lftp commands in one control session, e.g. {@code "ls", "get a -o /tmp/a"}. */
    public ExecResult session(Topology topology, FtpEndpoint endpoint, FtpMode mode, String... commands) {
        return run(topology, endpoint, mode, String.join("; ", commands));
    }

    /**
     * The start of an {@code lftp -c} script: short timeouts, one retry, no TLS, {@code mode},
     * the dialogue at {@code debugLevel} on stderr (3: replies, 5: commands too), then the login.
     * {@code failExit}: whether the first failed command ends the script.
     */
    public static String preamble(FtpEndpoint endpoint, FtpMode mode, boolean failExit, int debugLevel) {
        return String.join("; ",
                "set cmd:fail-exit " + (failExit ? "yes" : "no"),
                "set net:timeout 5",
                "set net:max-retries 1",
                "set net:reconnect-interval-base 1",
                "set ftp:ssl-allow no",
                "set xfer:clobber yes",
                "set ftp:passive-mode " + (mode.passive() ? "on" : "off"),
                "set ftp:prefer-epsv " + (mode == FtpMode.EPSV ? "yes" : "no"),
                "debug -o /dev/stderr " + debugLevel,
                "open -u " + endpoint.user() + ",lftp@ -p " + endpoint.port() + " " + endpoint.host());
    }

    private static ExecResult run(Topology topology, FtpEndpoint endpoint, FtpMode mode, String command) {
        String script = String.join("; ",
                preamble(endpoint, mode, true, 3),
                command);
        return topology.exec(topology.client, "lftp", "-c", script);
    }
}
