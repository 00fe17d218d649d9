package io.ftpgate.testing;

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

    /** Checks root and tools (skip or, in CI, fail), then builds everything; nothing is left on failure. */
    public static Testbed start(Topology.Kind kind, String... tools) {
        RootTools.requireRootAndTools(tools);
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
    public static Testbed start(Topology.Kind kind, String settings, boolean secondServer, String... tools) {
        RootTools.requireRootAndTools(tools);
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
