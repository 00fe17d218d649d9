package io.ftpgate.config;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Everything ftpgate runs on, read and checked once at start (see reference.conf for meanings). */
public record Settings(
        List<Listener> listeners,
        Control control,
        Data data,
        Firewall firewall,
        Metrics metrics,
        Duration shutdownGrace,
        Transparent transparent,
        Destinations destinations) {

    public Settings {
        listeners = List.copyOf(listeners);
    }

    /** How a listener finds the FTP server of a session. */
    public enum Mode {
        /** Every session goes to the configured {@code upstream}. */
        EXPLICIT,
        /** Sessions are intercepted (TPROXY); the server is the connection's original destination. */
        TRANSPARENT,
        /** The client names the server: {@code USER name@host[:port]}. */
        FORWARD
    }

    /**
     * One gateway entry point: where clients connect, and how the FTP server is found.
     *
     * @param upstream the server, for {@link Mode#EXPLICIT} only (null otherwise)
     */
    public record Listener(String name, Mode mode, List<Endpoint> listen, Endpoint upstream) {
        public Listener {
            listen = List.copyOf(listen);
        }

        /** An explicit listener. */
        public Listener(String name, List<Endpoint> listen, Endpoint upstream) {
            this(name, Mode.EXPLICIT, listen, upstream);
        }
    }

    /** Transparent interception (TPROXY) and how intercepted data connections look. */
    public record Transparent(
            int mark,
            int routingTable,
            List<String> interfaces,
            List<String> clientNetworks,
            List<Integer> ports,
            boolean announceServerAddress,
            boolean preserveClientAddress,
            boolean manageFirewall) {
        public Transparent {
            interfaces = List.copyOf(interfaces);
            clientNetworks = List.copyOf(clientNetworks);
            ports = List.copyOf(ports);
        }
    }

    /** Which servers transparent and forward listeners may connect to (CIDR networks, ports). */
    public record Destinations(List<String> allow, List<String> deny, List<Integer> ports) {
        public Destinations {
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
            ports = List.copyOf(ports);
        }
    }

    public record Control(
            int maxLineLength,
            int maxReplyLines,
            Duration idleTimeout,
            Duration upstreamConnectTimeout,
            int maxSessions,
            int maxPipelinedCommands) {}

    public record Data(
            PortRange portRange,
            Duration connectTimeout,
            Duration idleTimeout,
            Optional<InetAddress> advertisedAddress,
            boolean activeToPassive,
            boolean trustPassiveAddress,
            int writeBufferLow,
            int writeBufferHigh,
            DataPath path,
            Relay relay) {}

    /** How a plain data connection's bytes are moved between its two legs. */
    public enum Relay {
        /** In the kernel with splice(2) through a pipe (epoll transport); copying where that is not possible. */
        SPLICE,
        /** Through the gateway's own buffers. */
        COPY
    }

    /** How the bytes of a data connection cross the gateway. */
    public enum DataPath {
        /** Through ftpgate (two sockets, a relay); works for every mode. */
        RELAY,
        /** Forwarded by the kernel (NAT rules per connection) where no conversion is needed; else relayed. */
        KERNEL
    }

    public enum Backend { IPTABLES, IPSET, NFTABLES, NONE }

    public record Firewall(
            Backend backend,
            String chainPrefix,
            boolean guardOutput,
            String iptables,
            String ip6tables,
            String ipset,
            List<String> commandPrefix,
            Duration commandTimeout,
            Nftables nftables) {
        public Firewall {
            commandPrefix = List.copyOf(commandPrefix);
        }

        /** The same settings for another backend (the demo, --cleanup-firewall). */
        public Firewall withBackend(Backend other) {
            return new Firewall(other, chainPrefix, guardOutput, iptables, ip6tables, ipset, commandPrefix,
                    commandTimeout, nftables);
        }
    }

    /**
     * The nftables backend: ftpgate's table {@code inet <table>}, its chains' priority (relative
     * to filter), the mark bit(s) of a leased connection's first packet, and the admin's chains
     * ({@code inet filter input}) that get the one accepting rule, inserted and removed by
     * ftpgate if {@code manageHookRules}.
     */
    public record Nftables(String nft, String table, int priority, long mark, boolean manageHookRules,
            List<String> hookChains) {
        public Nftables {
            hookChains = List.copyOf(hookChains);
        }
    }

    /** @param listen empty when the metrics endpoint is disabled */
    public record Metrics(Optional<Endpoint> listen, String path) {}

    /** Ports the gateway may listen on for data connections, both ends inclusive. */
    public record PortRange(int first, int last) {
        public int size() {
            return last - first + 1;
        }

        public static PortRange parse(String text) {
            String[] parts = text.trim().split("\\s*-\\s*");
            if (parts.length != 2) {
                throw new IllegalArgumentException("'" + text + "' is not FIRST-LAST");
            }
            int first;
            int last;
            try {
                first = Integer.parseInt(parts[0]);
                last = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not FIRST-LAST");
            }
            if (first < 1024 || last > 65535 || first > last) {
                throw new IllegalArgumentException(
                        "'" + text + "' must satisfy 1024 <= FIRST <= LAST <= 65535");
            }
            return new PortRange(first, last);
        }

        @Override
        public String toString() {
            return first + "-" + last;
        }
    }
}
