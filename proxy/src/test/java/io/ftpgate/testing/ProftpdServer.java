package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * ProFTPD (Debian's {@code proftpd-core}, unpacked by {@link DebianPackage}) in the foreground
 * ({@code -n}) in a namespace, with a config written from scratch: standalone, one dual-stack
 * socket on its port ({@code UseIPv6 on}), an {@code <Anonymous>} root where only
 * {@link VsftpdServer#UPLOAD_DIR} is writable, passive ports 32000-32999, no DNS, no ident.
 * Only modules built into the binary are used, so nothing is loaded from the package's paths.
 */
public final class ProftpdServer {

    private ProftpdServer() {
    }

    /** Starts ProFTPD on {@code port} in {@code ns}; returns once it accepts connections. */
    public static RunningFtpServer start(Topology topology, String ns, int port, long seed) {
        return start(topology, ns, port, seed, List.of());
    }

    /**
     * ProFTPD as {@link #start(Topology, String, int, long)} with {@code serverConfig} lines (e.g.
     * {@link #modTls()} and mod_tls directives) before the anonymous root.
     */
    public static RunningFtpServer start(Topology topology, String ns, int port, long seed, List<String> serverConfig) {
        Path binary = DebianPackage.binary("proftpd-core", "usr/sbin/proftpd");
        Path base = topology.workDir().resolve("proftpd");
        Path root = ServedFiles.populate(topology, base.resolve("root"), "hello from proftpd\n", seed);
        Path conf = base.resolve("proftpd.conf");
        try {
            Files.writeString(conf, String.join("\n",
                    "ServerType standalone",
                    "ServerName \"ftpgate conformance ProFTPD\"",
                    "DefaultServer on",
                    // An address literal: otherwise ProFTPD resolves the host name (IPv4 and IPv6),
                    // and the namespace's DNS queries time out. With SocketBindTight off (the
                    // default) it still listens on the wildcard address, and serves every
                    // connection as the default server.
                    "DefaultAddress 127.0.0.1",
                    "Port " + port,
                    "UseIPv6 on",
                    "User nobody",
                    "Group nogroup",
                    "Umask 022",
                    "MaxInstances 50",
                    "UseReverseDNS off",
                    "RequireValidShell off",
                    "UseFtpUsers off",
                    "WtmpLog off",
                    "PassivePorts 32000 32999",
                    "AllowOverwrite on",
                    "ScoreboardFile " + base.resolve("proftpd.scoreboard"),
                    "PidFile " + base.resolve("proftpd.pid"),
                    "DelayTable none",
                    "SystemLog " + base.resolve("system.log"),
                    "TransferLog " + base.resolve("xferlog"),
                    String.join("\n", serverConfig),
                    "<Anonymous " + root + ">",
                    "  User ftp",
                    "  Group nogroup",
                    "  UserAlias anonymous ftp",
                    "  <Limit WRITE>",
                    "    DenyAll",
                    "  </Limit>",
                    "  <Directory " + VsftpdServer.UPLOAD_DIR + ">",
                    "    <Limit STOR APPE>",
                    "      AllowAll",
                    "    </Limit>",
                    "  </Directory>",
                    "</Anonymous>",
                    ""), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process process = topology.start(ns, base.resolve("proftpd.log"), binary.toString(), "--nodaemon", "--config", conf.toString());
        return new RunningFtpServer("proftpd", port, root, process,
                List.of(base.resolve("proftpd.log"), base.resolve("system.log"), base.resolve("xferlog"))).awaitListening(topology, ns);
    }

    /**
     * The lines that load mod_tls, which Debian ships as a shared module in
     * {@code proftpd-mod-crypto} (not in {@code proftpd-core}), from that package unpacked next to
     * the binary's: {@code ModulePath} points at its {@code usr/lib/proftpd}.
     */
    public static List<String> modTls() {
        Path module = DebianPackage.file("proftpd-mod-crypto", "usr/lib/proftpd/mod_tls.so");
        return List.of("ModulePath " + module.getParent(), "LoadModule mod_tls.c");
    }

    /** Where a {@code TLSLog} in this server's directory belongs. */
    public static Path tlsLog(Topology topology) {
        return topology.workDir().resolve("proftpd").resolve("tls.log");
    }
}
