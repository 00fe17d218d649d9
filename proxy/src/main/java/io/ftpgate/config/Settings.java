package io.ftpgate.config;

import java.net.InetAddress;
import java.nio.file.Path;
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
        Destinations destinations,
        Drain drain,
        String instanceName,
        Abuse abuse) {

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
     * @param upstreamProxyProtocol the PROXY header sent to the server (transparent and forward:
     *     {@code destinations.upstream-proxy-protocol})
     * @param advertisedAddresses what this listener's 227 replies announce instead of
     *     {@code data.advertised-address}
     */
    public record Listener(String name, Mode mode, List<Endpoint> listen, Endpoint upstream,
                           ListenerTls tls, UpstreamTls upstreamTls, ProxyProtocol proxyProtocol,
                           UpstreamProxyProtocol upstreamProxyProtocol, AdvertisedAddresses advertisedAddresses) {
        public Listener {
            listen = List.copyOf(listen);
        }

        /** A listener that sends no PROXY header to its server and has no advertised address of its own. */
        public Listener(String name, Mode mode, List<Endpoint> listen, Endpoint upstream,
                        ListenerTls tls, UpstreamTls upstreamTls, ProxyProtocol proxyProtocol) {
            this(name, mode, listen, upstream, tls, upstreamTls, proxyProtocol, UpstreamProxyProtocol.OFF,
                    AdvertisedAddresses.NONE);
        }

        /** A listener without the PROXY protocol. */
        public Listener(String name, Mode mode, List<Endpoint> listen, Endpoint upstream,
                        ListenerTls tls, UpstreamTls upstreamTls) {
            this(name, mode, listen, upstream, tls, upstreamTls, ProxyProtocol.OFF);
        }

        /** A listener without TLS on either leg. */
        public Listener(String name, Mode mode, List<Endpoint> listen, Endpoint upstream) {
            this(name, mode, listen, upstream, ListenerTls.OFF, UpstreamTls.OFF);
        }

        /** An explicit listener without TLS on either leg. */
        public Listener(String name, List<Endpoint> listen, Endpoint upstream) {
            this(name, Mode.EXPLICIT, listen, upstream);
        }
    }

    /**
     * The PROXY protocol (HAProxy, v1 and v2) in front of a listener's control connections, and
     * optionally in front of its sessions' passive data connections.
     *
     * @param trusted the only peers whose header is read; anyone else is closed at once
     * @param headerTimeout how long a trusted peer may take to send the header
     * @param dataConnections the passive data connections of the listener's sessions come through
     *     the load balancer too, each with its own header (only with {@code enabled})
     */
    public record ProxyProtocol(boolean enabled, List<Cidr> trusted, Duration headerTimeout, boolean dataConnections) {
        public static final ProxyProtocol OFF = new ProxyProtocol(false, List.of(), Duration.ofSeconds(3), false);

        public ProxyProtocol {
            trusted = List.copyOf(trusted);
        }

        /** Control connections only. */
        public ProxyProtocol(boolean enabled, List<Cidr> trusted, Duration headerTimeout) {
            this(enabled, trusted, headerTimeout, false);
        }

        /** Whether {@code peer} (an IPv4 address not written as IPv4-mapped IPv6) may send a header. */
        public boolean trusts(InetAddress peer) {
            return trusted.stream().anyMatch(n -> n.contains(peer));
        }
    }

    /** How a leg starts TLS: not at all, with AUTH TLS (RFC 4217), or from the first byte (port 990). */
    public enum TlsMode { OFF, EXPLICIT, IMPLICIT }

    /**
     * Which TLS implementation builds the contexts of both legs (key {@code tls.provider}): the
     * JDK's (SunJSSE), or Netty's OpenSSL provider (BoringSSL from netty-tcnative), which ftpgate
     * refuses at start where it cannot be loaded.
     */
    public enum TlsProvider { JDK, OPENSSL }

    /** Whether a client's TLS data connections must resume its control connection's TLS session. */
    public enum DataSessionReuse { OPTIONAL, REQUIRED }

    /**
     * The client leg's TLS (the gateway is the TLS server, with its own certificate).
     *
     * @param certificate PEM chain, leaf first (present unless mode is OFF)
     * @param privateKey PEM private key of the leaf (present unless mode is OFF)
     * @param protocols enabled versions, e.g. TLSv1.3, TLSv1.2
     * @param required USER/PASS before AUTH TLS are refused (explicit mode)
     * @param allowClearData the client may choose PROT C
     * @param provider the TLS implementation ({@code tls.provider}, for all listeners)
     */
    public record ListenerTls(
            TlsMode mode,
            Optional<Path> certificate,
            Optional<Path> privateKey,
            List<String> protocols,
            boolean required,
            boolean allowClearData,
            DataSessionReuse dataSessionReuse,
            TlsProvider provider) {
        public static final ListenerTls OFF = new ListenerTls(TlsMode.OFF, Optional.empty(), Optional.empty(),
                List.of("TLSv1.3", "TLSv1.2"), false, true, DataSessionReuse.OPTIONAL);

        public ListenerTls {
            protocols = List.copyOf(protocols);
        }

        /** With the JDK provider (the default). */
        public ListenerTls(TlsMode mode, Optional<Path> certificate, Optional<Path> privateKey, List<String> protocols,
                           boolean required, boolean allowClearData, DataSessionReuse dataSessionReuse) {
            this(mode, certificate, privateKey, protocols, required, allowClearData, dataSessionReuse, TlsProvider.JDK);
        }

        public boolean enabled() {
            return mode != TlsMode.OFF;
        }
    }

    /** How the server leg starts TLS; FOLLOW: as the client did on its leg (explicit or not at all). */
    public enum UpstreamTlsMode { OFF, EXPLICIT, IMPLICIT, FOLLOW }

    /** How the gateway checks the FTP server's certificate. */
    public enum Verify {
        /** The JDK's trust store, and the host name. */
        SYSTEM,
        /** The CAs of a PEM file, and the host name. */
        CA_FILE,
        /** The SHA-256 fingerprint of the server's certificate (DER); nothing else. */
        FINGERPRINT,
        /** Not at all (anyone in the path can read and change the session). */
        INSECURE
    }

    /** Which protection the gateway asks for on server-leg data connections (PROT). */
    public enum Protection { PRIVATE, FOLLOW, CLEAR }

    /**
     * The server leg's TLS policy (the gateway is the TLS client).
     *
     * @param caFile trusted CAs (PEM), for {@link Verify#CA_FILE}
     * @param fingerprint SHA-256 of the server certificate, 64 hex digits, for {@link Verify#FINGERPRINT}
     * @param sni server name sent and verified; empty: the server's host name (none for an IP address)
     * @param clientCertificate PEM chain presented to servers that ask (with {@code clientKey})
     * @param provider the TLS implementation ({@code tls.provider}, for all listeners)
     */
    public record UpstreamTls(
            UpstreamTlsMode mode,
            Verify verify,
            Optional<Path> caFile,
            Optional<String> fingerprint,
            Optional<String> sni,
            Optional<Path> clientCertificate,
            Optional<Path> clientKey,
            Protection protection,
            List<String> protocols,
            TlsProvider provider) {
        public static final UpstreamTls OFF = new UpstreamTls(UpstreamTlsMode.OFF, Verify.SYSTEM, Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Protection.PRIVATE,
                List.of("TLSv1.3", "TLSv1.2"));

        public UpstreamTls {
            protocols = List.copyOf(protocols);
        }

        /** With the JDK provider (the default). */
        public UpstreamTls(UpstreamTlsMode mode, Verify verify, Optional<Path> caFile, Optional<String> fingerprint,
                           Optional<String> sni, Optional<Path> clientCertificate, Optional<Path> clientKey,
                           Protection protection, List<String> protocols) {
            this(mode, verify, caFile, fingerprint, sni, clientCertificate, clientKey, protection, protocols,
                    TlsProvider.JDK);
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
    /** @param upstreamTls the server-leg TLS policy of transparent and forward listeners */
    public record Destinations(List<String> allow, List<String> deny, List<Integer> ports, UpstreamTls upstreamTls) {
        public Destinations {
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
            ports = List.copyOf(ports);
        }

        /** Destinations reached without TLS. */
        public Destinations(List<String> allow, List<String> deny, List<Integer> ports) {
            this(allow, deny, ports, UpstreamTls.OFF);
        }
    }

    public record Control(
            int maxLineLength,
            int maxReplyLines,
            Duration idleTimeout,
            Duration upstreamConnectTimeout,
            int maxSessions,
            int maxPipelinedCommands,
            ReplyViolations unexpectedReplies,
            Duration dnsTimeout,
            List<Endpoint> dnsServers,
            int eventLoops) {

        /** The event loops to start: {@link #eventLoops}, or one per CPU the JVM may use if that is 0. */
        public int eventLoopThreads() {
            return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * Abuse controls (reference.conf {@code ftpgate.abuse}); a limit of 0 is off.
     *
     * @param maxSessionsPerAddress sessions at once from one client address
     * @param maxSessionsPerIpv6Prefix sessions at once from one client IPv6 /64
     */
    public record Abuse(
            int maxSessionsPerAddress,
            int maxSessionsPerIpv6Prefix,
            LoginFailures loginFailures,
            int commandsPerSecond,
            int commandBurst,
            int maxDataConnections,
            long bandwidthPerSession,
            long bandwidthTotal) {
    }

    /**
     * {@code limit} failed logins from one client address within {@code window} ban it for
     * {@code ban}; at most {@code maxAddresses} addresses are tracked. A limit of 0 is off.
     */
    public record LoginFailures(int limit, Duration window, Duration ban, int maxAddresses) {}

    /** What a session does with a server reply that no outstanding command asked for. */
    public enum ReplyViolations {
        /** end the session with 421 (Cisco ASA "inspect ftp strict") */
        CLOSE,
        /** drop the reply, log and count it, and go on */
        DROP
    }

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
            Nftables nftables,
            Duration checkInterval) {
        public Firewall {
            commandPrefix = List.copyOf(commandPrefix);
        }

        /** The same settings for another backend (the demo, --cleanup-firewall). */
        public Firewall withBackend(Backend other) {
            return new Firewall(other, chainPrefix, guardOutput, iptables, ip6tables, ipset, commandPrefix,
                    commandTimeout, nftables, checkInterval);
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

    /**
     * A drain that does not stop the gateway.
     *
     * @param admitFor how long new sessions are still admitted after the drain starts
     * @param timeout how long running sessions may go on before they get 421
     */
    public record Drain(Duration admitFor, Duration timeout) {}

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
