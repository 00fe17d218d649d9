package io.ftpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * firewalld (Debian's {@code firewalld} and {@code python3-firewall}, unpacked by
 * {@link DebianPackage}: installing them would start a firewall on the host) with its nftables
 * backend, in the foreground in a namespace, on a D-Bus system bus of its own (a
 * {@code dbus-daemon} whose socket is in the topology's scratch directory), with its own
 * configuration directory: default zone {@code drop}, which admits the listener ports
 * {@link Topology#LISTENER_PORTS} and nothing else. firewalld runs in a private mount namespace
 * with an empty {@code /run}, so it leaves nothing on the host; {@link Topology#close()} stops both.
 * Needs Debian's {@code python3-dbus}, {@code python3-gi}, {@code python3-nftables} and
 * {@code gir1.2-glib-2.0} (CI: {@code .ci/run}).
 */
public final class FirewalldDaemon {

    private static final String PYTHON = "/usr/bin/python3";

    private final Topology topology;
    private final Path bus;
    private final Path modules;
    private final Path client;
    private final Path log;

    private FirewalldDaemon(Topology topology, Path bus, Path modules, Path client, Path log) {
        this.topology = topology;
        this.bus = bus;
        this.modules = modules;
        this.client = client;
        this.log = log;
    }

    /** Starts firewalld in the topology's gateway namespace; returns once it says it is running. */
    public static FirewalldDaemon start(Topology topology) {
        RootTools.requireRootAndTools("dbus-daemon", "nft", "unshare");
        if (!Files.isExecutable(Path.of(PYTHON))) {
            RootTools.unavailable("firewalld needs Debian's " + PYTHON);
        }
        Path daemon = DebianPackage.file("firewalld", "usr/sbin/firewalld");
        Path client = DebianPackage.file("firewalld", "usr/bin/firewall-cmd");
        Path defaults = daemon.getParent().getParent().resolve("lib/firewalld");
        Path modules = DebianPackage.file("python3-firewall", "usr/lib/python3/dist-packages/firewall/__init__.py")
                .getParent().getParent();
        ExecResult imports = topology.exec(topology.gateway, "env", "PYTHONPATH=" + modules, PYTHON, "-c",
                "import dbus, gi, nftables, firewall.server.firewalld");
        if (!imports.ok()) {
            RootTools.unavailable("firewalld's Python modules do not load (install python3-dbus python3-gi"
                    + " python3-nftables gir1.2-glib-2.0, see .ci/run): " + imports.describe());
        }
        try {
            Path base = Files.createDirectories(topology.workDir().resolve("firewalld"));
            Path config = Files.createDirectories(base.resolve("etc"));
            Files.writeString(config.resolve("firewalld.conf"), String.join("\n",
                    "DefaultZone=drop", "FirewallBackend=nftables", "LogDenied=off", "IPv6_rpfilter=yes",
                    "AllowZoneDrifting=no", ""));
            Path zones = Files.createDirectories(config.resolve("zones"));
            StringBuilder drop = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"DROP\">\n"
                    + "  <short>Drop</short>\n");
            for (int port : Topology.LISTENER_PORTS) {
                drop.append("  <port protocol=\"tcp\" port=\"").append(port).append("\"/>\n");
            }
            Files.writeString(zones.resolve("drop.xml"), drop.append("</zone>\n").toString());
            Path bus = base.resolve("bus");
            Path busConfig = base.resolve("dbus.conf");
            Files.writeString(busConfig, """
                    <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
                     "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                    <busconfig>
                      <type>system</type>
                      <listen>unix:path=%s</listen>
                      <auth>EXTERNAL</auth>
                      <policy context="default">
                        <allow user="root"/>
                        <allow own="*"/>
                        <allow send_destination="*"/>
                        <allow receive_sender="*"/>
                      </policy>
                    </busconfig>
                    """.formatted(bus));
            topology.start(topology.gateway, base.resolve("dbus.log"), "dbus-daemon", "--nofork", "--nopidfile",
                    "--config-file=" + busConfig);
            await("the D-Bus socket").atMost(Duration.ofSeconds(10)).until(() -> Files.exists(bus));
            Path log = base.resolve("firewalld.log");
            topology.start(topology.gateway, log, "unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "mount -t tmpfs tmpfs /run && exec env \"$@\"", "firewalld",
                    "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus, "PYTHONPATH=" + modules, PYTHON, daemon.toString(),
                    "--nofork", "--nopid", "--log-target", "console",
                    "--system-config", config.toString(), "--default-config", defaults.toString());
            FirewalldDaemon firewalld = new FirewalldDaemon(topology, bus, modules, client, log);
            await("firewalld running").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> firewalld.cmd("--state").ok());
            return firewalld;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code firewall-cmd} with these arguments against this firewalld. */
    public ExecResult cmd(String... args) {
        List<String> argv = new ArrayList<>(List.of("env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus,
                "PYTHONPATH=" + modules, PYTHON, client.toString()));
        argv.addAll(List.of(args));
        return topology.exec(topology.gateway, Duration.ofSeconds(60), argv.toArray(String[]::new));
    }

    /** firewalld's table as nft lists it. */
    public String table() {
        return topology.exec(topology.gateway, "nft", "list", "table", "inet", "firewalld").orThrow().stdout();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
