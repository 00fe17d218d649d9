package io.ftpgate.testing;

import java.nio.file.Path;

/**
 * Recipe 1's network: a client and two gateways on one Ethernet segment (a bridge in a "switch"
 * namespace of its own, so VRRP's multicast never touches the root namespace), each gateway with
 * keepalived (VRRP only) and ftpgate in demo mode (its own embedded FTP server, the same files on
 * both), built on {@link NetnsLab}.
 *
 * <pre>
 *   cli 198.51.100.10 ── sw:br0 ──┬── a 198.51.100.2  (VIP1 .100 MASTER prio 150, VIP2 .101 BACKUP 100)
 *                                 └── b 198.51.100.3  (VIP1 BACKUP 100, VIP2 MASTER 150)
 * </pre>
 */
public final class VrrpPair implements AutoCloseable {
    public static final String CLIENT = "198.51.100.10";
    public static final String VIP1 = "198.51.100.100";
    public static final String VIP2 = "198.51.100.101";

    public final NetnsLab lab;
    public final String sw;
    public final String client;
    public final String a;
    public final String b;
    private Process gatewayA;
    private Process gatewayB;

    private VrrpPair(NetnsLab lab) {
        this.lab = lab;
        this.sw = lab.namespace("sw");
        this.client = lab.namespace("cli");
        this.a = lab.namespace("a");
        this.b = lab.namespace("b");
        lab.attach(sw, "br0", client, "eth0", CLIENT + "/24");
        lab.attach(sw, "br0", a, "eth0", "198.51.100.2/24");
        lab.attach(sw, "br0", b, "eth0", "198.51.100.3/24");
    }

    public static VrrpPair create() {
        NetnsLab lab = NetnsLab.create();
        try {
            return new VrrpPair(lab);
        } catch (RuntimeException | Error e) {
            lab.close();
            throw e;
        }
    }

    /** Starts ftpgate (demo mode, listening on every address, port 21) in {@code ns}. */
    public Process startGateway(String ns, String jar) {
        Path config = lab.write(ns + ".conf", "ftpgate { instance-name = gw-" + ns.substring(ns.length() - 1)
                + ", drain.lb-grace = 1s }\n");
        Process p = lab.start(ns, "ftpgate-" + ns, Topology.JAVA, "-jar", jar, "--demo", "--listen", "0.0.0.0:21",
                "--config", config.toString());
        if (ns.equals(a)) {
            gatewayA = p;
        } else {
            gatewayB = p;
        }
        return p;
    }

    public Process gateway(String ns) {
        return ns.equals(a) ? gatewayA : gatewayB;
    }

    /**
     * Starts keepalived (VRRP only) in {@code ns}: MASTER-capable for {@code own} with priority
     * 150, backup for {@code other} with 100; both tracked by a vrrp_script that asks ftpgate's
     * /ready every second and fails after two misses.
     */
    public Process startKeepalived(String ns, String own, String other) {
        String conf = String.join("\n",
                "global_defs {",
                "  router_id " + ns.substring(ns.length() - 1),
                "  enable_script_security",
                "  script_user root",
                "}",
                "vrrp_script ftpgate_ready {",
                "  script \"/usr/bin/curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:9121/ready\"",
                "  interval 1",
                "  fall 2",
                "  rise 2",
                "}",
                instance("VIP1", 51, VIP1.equals(own) ? 150 : 100, VIP1),
                instance("VIP2", 52, VIP2.equals(own) ? 150 : 100, VIP2),
                "");
        Path file = lab.write(ns + "-keepalived.conf", conf);
        return lab.start(ns, "keepalived-" + ns, "keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail",
                "--use-file", file.toString(), "--pid", lab.file(ns + ".pid").toString(),
                "--vrrp_pid", lab.file(ns + ".vrrp.pid").toString());
    }

    private static String instance(String name, int id, int priority, String vip) {
        return String.join("\n",
                "vrrp_instance " + name + " {",
                "  state BACKUP",
                "  interface eth0",
                "  virtual_router_id " + id,
                "  priority " + priority,
                "  advert_int 1",
                "  virtual_ipaddress {",
                "    " + vip + "/24 dev eth0",
                "  }",
                "  track_script {",
                "    ftpgate_ready",
                "  }",
                "}");
    }

    /** Whether {@code ns} holds {@code vip} now. */
    public boolean holds(String ns, String vip) {
        return lab.exec(ns, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout().contains(" " + vip + "/");
    }

    public ExecResult tryExec(String ns, String... argv) {
        return lab.tryExec(ns, argv);
    }

    public static void crash(Process p) throws InterruptedException {
        NetnsLab.crash(p);
    }

    @Override
    public void close() {
        lab.close();
    }
}
