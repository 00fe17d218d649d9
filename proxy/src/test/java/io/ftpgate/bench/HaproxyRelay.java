package io.ftpgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

import static org.awaitility.Awaitility.await;

/**
 * The relay of the {@code tcp-relay} setup: HAProxy ({@code haproxy -db}, in the foreground, one
 * process) in the gateway namespace, relaying each connection to {@link #LISTEN} to vsftpd's port
 * 21 in {@code mode tcp}: bytes both ways, no FTP awareness, so data connections go from the client
 * to the address and port of vsftpd's 227, routed by the kernel. Its settings, for the floor of a
 * user-space control relay rather than a configuration of HAProxy's defaults:
 * <ul>
 *   <li>{@code nbthread 2}, one thread per CPU of this machine (HAProxy's own default where the
 *       affinity allows 2), as ftpgate runs an event loop per CPU and more;
 *   <li>{@code maxconn 8000}, far above the 16 sessions at once, within the hard open-files
 *       limit (two sockets per connection);
 *   <li>no {@code log} line: nothing is written per connection;
 *   <li>{@code timeout connect 5s}, {@code client}/{@code server} {@code 5m}: never reached;
 *   <li>{@code option tcp-smart-accept} and {@code option tcp-smart-connect}: the kernel's ACK of a
 *       command or reply may wait for the next segment the other way, which carries it (HAProxy's
 *       manual suggests the first for protocols where the server speaks first; both are its default
 *       in HTTP mode only). After its connect HAProxy has nothing to send (vsftpd speaks first), so
 *       the handshake's last ACK is not held back: the median session took no longer with both
 *       than with only the first (2.41 and 2.55 ms, one client, one run each);
 *   <li>no {@code splice}: control replies are a few dozen bytes.
 * </ul>
 * vsftpd sees the control connection come from the gateway and the data connection from the
 * client, so it runs with {@code pasv_promiscuous=YES} in this setup.
 */
final class HaproxyRelay {

    /** Where clients connect: the gateway's client-side address, port 21. */
    static final FtpEndpoint LISTEN = new FtpEndpoint(Topology.GATEWAY_CLIENT_SIDE_V4, VsftpdServer.PORT);

    private HaproxyRelay() {
    }

    /** Starts HAProxy in {@code topology}'s gateway namespace; returns once it listens. */
    static Process start(Topology topology) {
        try {
            Path config = Files.writeString(topology.workDir().resolve("haproxy.cfg"), config());
            Path log = topology.workDir().resolve("haproxy.log");
            Process process = topology.start(topology.gateway, log, "haproxy", "-db", "-f", config.toString());
            await("haproxy listening on " + LISTEN.authority()).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError("haproxy exited with " + process.exitValue() + ": " + Files.readString(log));
                        }
                        return !topology.exec(topology.gateway, "ss", "-Hltn", "sport = :" + LISTEN.port()).stdout().isBlank();
                    });
            // ip netns exec execs in place: the pid is HAProxy's, whose threads the benchmark reads.
            String comm = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "comm")).strip();
            if (!comm.equals("haproxy")) {
                throw new IllegalStateException("pid " + process.pid() + " is " + comm + ", not haproxy");
            }
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String config() {
        return String.join("\n",
                "global",
                "  nbthread 2",
                "  maxconn 8000",
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 5m",
                "  timeout server 5m",
                "  option tcp-smart-accept",
                "  option tcp-smart-connect",
                "listen ftp",
                "  bind " + LISTEN.authority(),
                "  server vsftpd " + Topology.SERVER_V4 + ":" + VsftpdServer.PORT,
                "");
    }
}
