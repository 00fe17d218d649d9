package io.ftpgate.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What every netns test class starts with: the {@link Topology}, vsftpd in the server namespace
 * and, for {@link Topology.Kind#GATEWAY}, ftpgate in the gateway namespace. Closing it removes
 * all of it.
 */
public final class Testbed implements AutoCloseable {

    public final Topology topology;
    public final VsftpdServer server;
    /** The server of {@link Topology#addSecondServer()}; null unless asked for. */
    public final VsftpdServer secondServer;
    /** Null for a {@link Topology.Kind#ROUTER} testbed. */
    public final FtpGateDaemon gateway;
    public final GatewayRules rules;

    private Testbed(Topology topology, VsftpdServer server, VsftpdServer secondServer, FtpGateDaemon gateway) {
        this.topology = topology;
        this.server = server;
        this.secondServer = secondServer;
        this.gateway = gateway;
        this.rules = new GatewayRules(topology);
    }

    /**
     * What every testbed runs: namespaces and addresses, sysctl, socket checks, the server, the
     * gateway's firewall (both backends: iptables, and ipset for the ipset backend's tests).
     */
    private static final List<String> BASE_TOOLS = List.of("ip", "sysctl", "ss", "sh", "vsftpd",
            "iptables", "ip6tables", "iptables-save", "ip6tables-save", "ipset");

    /**
     * Checks root, the base tools and {@code clientTools} (skip or, in CI, fail), then builds
     * everything; nothing is left on failure.
     */
    public static Testbed start(Topology.Kind kind, String... clientTools) {
        requireTools(clientTools);
        Topology topology = Topology.create(kind);
        try {
            VsftpdServer server = VsftpdServer.start(topology);
            FtpGateDaemon gateway = kind == Topology.Kind.GATEWAY ? FtpGateDaemon.start(topology) : null;
            return new Testbed(topology, server, null, gateway);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    /**
     * Like {@link #start(Topology.Kind, String...)}, but ftpgate runs with {@code settings} (see
     * {@link FtpGateDaemon#start(Topology, String)}), and with {@code secondServer} a second vsftpd
     * with other files runs on {@link Topology#addSecondServer()}.
     */
    public static Testbed start(Topology.Kind kind, String settings, boolean secondServer, String... clientTools) {
        requireTools(clientTools);
        Topology topology = Topology.create(kind);
        try {
            VsftpdServer server = VsftpdServer.start(topology);
            VsftpdServer second = secondServer
                    ? VsftpdServer.start(topology, topology.addSecondServer(), "vsftpd-second", "hello from the second server\n", 42L)
                    : null;
            return new Testbed(topology, server, second, FtpGateDaemon.start(topology, settings));
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
    }

    /** Checks root, the base tools and {@code clientTools}: skip or, in CI, fail. */
    public static void requireTools(String... clientTools) {
        List<String> tools = new ArrayList<>(BASE_TOOLS);
        tools.addAll(List.of(clientTools));
        RootTools.requireRootAndTools(tools.toArray(String[]::new));
    }

    /** Null-safe close for {@code @AfterAll}, where set-up may have failed before the testbed existed. */
    public static void close(Testbed testbed) {
        if (testbed != null) {
            testbed.close();
        }
    }

    @Override
    public void close() {
        topology.close();
    }
}
