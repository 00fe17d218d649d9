package io.ftpgate.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads {@link Settings}: command-line overrides over the user's file over {@code reference.conf}.
 * Every problem becomes one {@link ConfigError} naming origin (file and line) and key.
 */
public final class SettingsLoader {

    private static final String ROOT = "ftpgate";

    private SettingsLoader() {}

    /**
     * @param file the user's file, if any (it must exist)
     * @param overrides settings from the command line (paths below {@code ftpgate}), may be empty
     */
    public static Settings load(Optional<Path> file, Config overrides) throws ConfigError {
        Config reference = ConfigFactory.defaultReference(SettingsLoader.class.getClassLoader());
        Config user = ConfigFactory.empty();
        if (file.isPresent()) {
            Path path = file.get();
            if (!Files.isReadable(path)) {
                throw new ConfigError(path + ": cannot read the file");
            }
            try {
                user = ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new ConfigError(e.getMessage());
            }
        }
        try {
            Config merged = overrides.withFallback(user).resolve().withFallback(reference).resolve();
            merged.checkValid(reference, ROOT);
            rejectUnknownKeys(overrides.withFallback(user), reference);
            return read(merged.getConfig(ROOT));
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    /**
     * The effective settings ({@code --print-config}) as HOCON, every value preceded by a comment
     * naming where it comes from (the file and line, {@code reference.conf}, or the command line);
     * values of keys that look like secrets are masked. Call after {@link #load} accepted the same.
     */
    public static String render(Optional<Path> file, Config overrides) throws ConfigError {
        Config reference = ConfigFactory.defaultReference(SettingsLoader.class.getClassLoader());
        try {
            Config user = file.isPresent()
                    ? ConfigFactory.parseFile(file.get().toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
                    : ConfigFactory.empty();
            Config merged = overrides.withFallback(user).resolve().withFallback(reference).resolve();
            return masked(merged.withOnlyPath(ROOT)).root()
                    .render(ConfigRenderOptions.defaults().setJson(false).setComments(false).setOriginComments(true));
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    /** Keys whose last part names a password, passphrase, secret, token or credential. */
    private static final java.util.regex.Pattern SECRET =
            java.util.regex.Pattern.compile(".*(password|passwd|passphrase|secret|token|credential).*",
                    java.util.regex.Pattern.CASE_INSENSITIVE);
    static final String MASK = "********";

    private static Config masked(Config c) {
        Config out = c;
        for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
            List<String> parts = ConfigUtil.splitPath(e.getKey());
            if (SECRET.matcher(parts.get(parts.size() - 1)).matches()) {
                out = out.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(MASK).withOrigin(e.getValue().origin()));
            }
        }
        return out;
    }

    /** A misspelt key would otherwise be ignored silently: refuse it. */
    private static void rejectUnknownKeys(Config user, Config reference) throws ConfigError {
        if (!user.hasPath(ROOT)) {
            return;
        }
        for (Map.Entry<String, ConfigValue> e : user.getConfig(ROOT).entrySet()) {
            String key = e.getKey();
            if (key.startsWith("listeners.")) {
                continue;
            }
            if (!reference.hasPathOrNull(ROOT + "." + key)) {
                throw new ConfigError(e.getValue().origin().description() + ": unknown key " + ROOT + "." + key);
            }
        }
    }

    private static Settings read(Config c) throws ConfigError {
        Settings s = new Settings(
                listeners(c),
                new Settings.Control(
                        intIn(c, "control.max-line-length", 512, 1 << 20),
                        intIn(c, "control.max-reply-lines", 1, 1_000_000),
                        positive(c, "control.idle-timeout"),
                        positive(c, "control.upstream-connect-timeout"),
                        intIn(c, "control.max-sessions", 1, 1_000_000),
                        intIn(c, "control.max-pipelined-commands", 1, 10_000),
                        enumOf(c, "control.unexpected-replies", Settings.ReplyViolations.class),
                        positive(c, "control.dns-timeout"),
                        dnsServers(c),
                        intIn(c, "control.event-loops", 0, 1024)),
                data(c),
                firewall(c),
                metrics(c),
                positive(c, "shutdown.grace-period"),
                transparent(c),
                destinations(c),
                new Settings.Drain(nonNegative(c, "drain.lb-grace"), positive(c, "drain.timeout")),
                instanceName(c),
                abuse(c));
        checkProxiedData(c, s.listeners(), s.data());
        return s;
    }

    private static Settings.Abuse abuse(Config c) throws ConfigError {
        return new Settings.Abuse(
                intIn(c, "abuse.max-sessions-per-address", 0, 1_000_000),
                intIn(c, "abuse.max-sessions-per-ipv6-prefix", 0, 1_000_000),
                new Settings.LoginFailures(
                        intIn(c, "abuse.login-failures.limit", 0, 1000),
                        durationIn(c, "abuse.login-failures.window", Duration.ofSeconds(1), Duration.ofDays(1)),
                        durationIn(c, "abuse.login-failures.ban", Duration.ofSeconds(1), Duration.ofDays(30)),
                        intIn(c, "abuse.login-failures.max-addresses", 100, 10_000_000)),
                intIn(c, "abuse.commands-per-second", 0, 100_000),
                intIn(c, "abuse.command-burst", 1, 100_000),
                intIn(c, "abuse.max-data-connections", 0, 100_000_000),
                bandwidth(c, "abuse.bandwidth.per-session"),
                bandwidth(c, "abuse.bandwidth.total"));
    }

    /** Bytes per second: 0 (no limit) or 16k..100g (below 16k a 64 KiB read would outlast Netty's 15 s wait cap). */
    private static long bandwidth(Config c, String key) throws ConfigError {
        long v = get(c, key, c::getBytes);
        if (v != 0 && (v < 16 * 1024 || v > 100L * 1024 * 1024 * 1024)) {
            throw error(c, key, v + " bytes per second is not 0 or in 16k..100g");
        }
        return v;
    }

    private static Duration durationIn(Config c, String key, Duration min, Duration max) throws ConfigError {
        Duration d = get(c, key, c::getDuration);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw error(c, key, "must be between " + min.toSeconds() + "s and " + max.toSeconds() + "s");
        }
        return d;
    }

    private static Settings.Transparent transparent(Config c) throws ConfigError {
        String announce = c.getString("transparent.announce").trim();
        if (!announce.equals("server") && !announce.equals("gateway")) {
            throw error(c, "transparent.announce", "must be server or gateway");
        }
        List<String> networks = c.getStringList("transparent.client-networks");
        for (String n : networks) {
            parse(c, "transparent.client-networks", n, Cidr::parse);
        }
        for (String i : c.getStringList("transparent.interfaces")) {
            if (!i.matches("[A-Za-z0-9_.:+-]{1,15}")) {
                throw error(c, "transparent.interfaces", "'" + i + "' is not an interface name");
            }
        }
        return new Settings.Transparent(
                intIn(c, "transparent.mark", 1, Integer.MAX_VALUE),
                intIn(c, "transparent.routing-table", 1, 252),
                c.getStringList("transparent.interfaces"),
                networks,
                ports(c, "transparent.ports"),
                announce.equals("server"),
                get(c, "transparent.preserve-client-address", c::getBoolean),
                get(c, "transparent.manage-firewall", c::getBoolean));
    }

    private static Settings.Destinations destinations(Config c) throws ConfigError {
        for (String key : List.of("destinations.allow", "destinations.deny")) {
            for (String n : c.getStringList(key)) {
                parse(c, key, n, Cidr::parse);
            }
        }
        return new Settings.Destinations(c.getStringList("destinations.allow"), c.getStringList("destinations.deny"),
                ports(c, "destinations.ports"), upstreamTls(c, "destinations.upstream-tls", "destinations.upstream-tls"));
    }

    private static final String TLS_DEFAULTS = "listener-defaults.tls";
    private static final String UPSTREAM_TLS_DEFAULTS = "listener-defaults.upstream-tls";
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** One TLS implementation for every listener's both legs. */
    private static final String TLS_PROVIDER = "tls.provider";

    /** A listener's client-leg TLS: its own {@code tls} block over {@code listener-defaults.tls}. */
    private static Settings.ListenerTls listenerTls(Config c, String own) throws ConfigError {
        checkBlock(c, own, TLS_DEFAULTS);
        // The defaults alone are only checked value by value: a listener may add what they lack.
        boolean whole = !own.equals(TLS_DEFAULTS);
        String modeKey = pick(c, own, TLS_DEFAULTS, "mode");
        Settings.TlsMode mode = oneOf(c, modeKey, Settings.TlsMode.class);
        boolean on = whole && mode != Settings.TlsMode.OFF;
        Optional<Path> certificate = optionalPath(c, pick(c, own, TLS_DEFAULTS, "certificate"), on);
        Optional<Path> key = optionalPath(c, pick(c, own, TLS_DEFAULTS, "private-key"), on);
        if (on && (certificate.isEmpty() || key.isEmpty())) {
            throw error(c, modeKey, mode.name().toLowerCase(Locale.ROOT)
                    + " needs the gateway's certificate and private-key (PEM files)");
        }
        return new Settings.ListenerTls(
                mode,
                certificate,
                key,
                protocols(c, pick(c, own, TLS_DEFAULTS, "protocols")),
                get(c, pick(c, own, TLS_DEFAULTS, "required"), c::getBoolean),
                get(c, pick(c, own, TLS_DEFAULTS, "allow-clear-data"), c::getBoolean),
                oneOf(c, pick(c, own, TLS_DEFAULTS, "data-session-reuse"), Settings.DataSessionReuse.class),
                oneOf(c, TLS_PROVIDER, Settings.TlsProvider.class));
    }

    /** A server-leg TLS policy: the {@code own} block over the {@code defaults} block. */
    private static Settings.UpstreamTls upstreamTls(Config c, String own, String defaults) throws ConfigError {
        checkBlock(c, own, defaults);
        Settings.UpstreamTlsMode mode = oneOf(c, pick(c, own, defaults, "mode"), Settings.UpstreamTlsMode.class);
        // The listener defaults alone are only checked value by value (see listenerTls).
        boolean on = mode != Settings.UpstreamTlsMode.OFF && !own.equals(UPSTREAM_TLS_DEFAULTS);
        String verifyKey = pick(c, own, defaults, "verify");
        Settings.Verify verify = oneOf(c, verifyKey, Settings.Verify.class);
        Optional<Path> caFile = optionalPath(c, pick(c, own, defaults, "ca-file"), on);
        if (on && verify == Settings.Verify.CA_FILE && caFile.isEmpty()) {
            throw error(c, verifyKey, "ca-file needs ca-file (a PEM file of trusted CAs)");
        }
        String fingerprintKey = pick(c, own, defaults, "fingerprint");
        Optional<String> fingerprint = Optional.of(get(c, fingerprintKey, c::getString).replaceAll("[:\\s]", "")
                .toLowerCase(Locale.ROOT)).filter(f -> !f.isEmpty());
        if (fingerprint.isPresent() && !fingerprint.get().matches("[0-9a-f]{64}")) {
            throw error(c, fingerprintKey, "must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
        }
        if (on && verify == Settings.Verify.FINGERPRINT && fingerprint.isEmpty()) {
            throw error(c, verifyKey, "fingerprint needs fingerprint (the server certificate's SHA-256)");
        }
        String sniKey = pick(c, own, defaults, "sni");
        Optional<String> sni = Optional.of(get(c, sniKey, c::getString).trim()).filter(n -> !n.isEmpty());
        if (sni.isPresent() && !sni.get().matches("(?=.*[A-Za-z])[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                + "(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")) {
            throw error(c, sniKey, "'" + sni.get() + "' must be a DNS host name (RFC 6066 sends no IP addresses)");
        }
        String certKey = pick(c, own, defaults, "client-certificate");
        Optional<Path> clientCertificate = optionalPath(c, certKey, on);
        Optional<Path> clientKey = optionalPath(c, pick(c, own, defaults, "client-key"), on);
        if (clientCertificate.isPresent() != clientKey.isPresent()) {
            throw error(c, certKey, "client-certificate and client-key go together");
        }
        return new Settings.UpstreamTls(mode, verify, caFile, fingerprint, sni, clientCertificate, clientKey,
                oneOf(c, pick(c, own, defaults, "protection"), Settings.Protection.class),
                protocols(c, pick(c, own, defaults, "protocols")),
                oneOf(c, TLS_PROVIDER, Settings.TlsProvider.class));
    }

    /** The key {@code own.name} if the user set it, else {@code defaults.name}. */
    private static String pick(Config c, String own, String defaults, String name) {
        String key = own + "." + name;
        return c.hasPathOrNull(key) ? key : defaults + "." + name;
    }

    /** A block the user wrote for one listener must be an object with only the keys of its defaults. */
    private static void checkBlock(Config c, String own, String defaults) throws ConfigError {
        if (own.equals(defaults) || !c.hasPathOrNull(own)) {
            return;
        }
        if (c.getValue(own).valueType() != ConfigValueType.OBJECT) {
            throw error(c, own, "must be an object { ... }");
        }
        for (String k : c.getConfig(own).root().keySet().stream().sorted().toList()) {
            if (!c.hasPathOrNull(defaults + "." + k)) {
                throw error(c, own + "." + k, "unknown key (see ftpgate." + defaults + " in reference.conf)");
            }
        }
    }

    /** An enum value written in lower case with '-' for '_', e.g. {@code ca-file}. */
    private static <E extends Enum<E>> E oneOf(Config c, String key, Class<E> type) throws ConfigError {
        String v = get(c, key, c::getString).trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Enum.valueOf(type, v);
        } catch (IllegalArgumentException e) {
            List<String> names = java.util.Arrays.stream(type.getEnumConstants())
                    .map(x -> x.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
            throw error(c, key, "must be one of: " + String.join(", ", names));
        }
    }

    /** A file name, "" for none; with {@code mustRead}, a given file must be readable now. */
    private static Optional<Path> optionalPath(Config c, String key, boolean mustRead) throws ConfigError {
        String name = get(c, key, c::getString).trim();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        Path path = Path.of(name);
        if (mustRead && !Files.isReadable(path)) {
            throw error(c, key, "cannot read '" + name + "'");
        }
        return Optional.of(path);
    }

    private static List<String> protocols(Config c, String key) throws ConfigError {
        List<String> protocols = get(c, key, c::getStringList).stream().map(String::trim).distinct().toList();
        if (protocols.isEmpty()) {
            throw error(c, key, "needs at least one of " + String.join(", ", TLS_PROTOCOLS));
        }
        for (String p : protocols) {
            if (!TLS_PROTOCOLS.contains(p)) {
                throw error(c, key, "'" + p + "' is not one of " + String.join(", ", TLS_PROTOCOLS));
            }
        }
        return protocols;
    }

    /** control.dns-servers: IP literals with an optional port (53 if none). */
    private static List<Endpoint> dnsServers(Config c) throws ConfigError {
        String key = "control.dns-servers";
        List<Endpoint> servers = new ArrayList<>();
        for (String s : get(c, key, c::getStringList)) {
            String text = s.trim();
            String withPort;
            if (text.startsWith("[")) {
                withPort = text.contains("]:") ? text : text + ":53";
            } else if (text.chars().filter(ch -> ch == ':').count() > 1) {
                withPort = "[" + text + "]:53"; // a bare IPv6 address
            } else {
                withPort = text.contains(":") ? text : text + ":53";
            }
            Endpoint e = parse(c, key, withPort, Endpoint::parse);
            if (!e.isLiteral()) {
                throw error(c, key, "'" + text + "' is not an IP address (a name server must be given by address)");
            }
            servers.add(e);
        }
        return List.copyOf(servers);
    }

    private static List<Integer> ports(Config c, String key) throws ConfigError {
        List<Integer> ports = get(c, key, c::getIntList);
        for (int p : ports) {
            if (p < 1 || p > 65535) {
                throw error(c, key, p + " is not a port");
            }
        }
        if (ports.isEmpty()) {
            throw error(c, key, "needs at least one port");
        }
        return ports;
    }

    private static final java.util.Set<String> LISTENER_KEYS =
            java.util.Set.of("mode", "listen", "upstream", "tls", "upstream-tls", "proxy-protocol",
                    "upstream-proxy-protocol", "advertised-address");

    private static final String UPSTREAM_PROXY = "upstream-proxy-protocol";

    /**
     * A listener's {@code advertised-address}: one IP address or a list of at most one IPv4 and one
     * IPv6 address, each of a family the listener's listen addresses take ({@code [::]} takes both).
     */
    private static AdvertisedAddresses advertisedAddresses(Config c, String key, List<Endpoint> listen)
            throws ConfigError {
        if (!c.hasPath(key)) {
            return AdvertisedAddresses.NONE;
        }
        List<String> texts = c.getValue(key).valueType() == ConfigValueType.LIST
                ? get(c, key, c::getStringList) : List.of(get(c, key, c::getString));
        boolean takesV4 = false;
        boolean takesV6 = false;
        for (Endpoint e : listen) {
            InetAddress a = e.toSocketAddress().getAddress();
            takesV4 |= a instanceof java.net.Inet4Address || a.isAnyLocalAddress();
            takesV6 |= a instanceof java.net.Inet6Address;
        }
        Optional<java.net.Inet4Address> v4 = Optional.empty();
        Optional<java.net.Inet6Address> v6 = Optional.empty();
        for (String text : texts) {
            String t = text.trim();
            if (!t.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                throw error(c, key, "'" + text + "' must be an IP address (IPv4 and/or IPv6, not a host name)");
            }
            InetAddress a;
            try {
                a = InetAddress.getByName(t);
            } catch (UnknownHostException e) {
                throw error(c, key, "'" + text + "' is not a valid IP address");
            }
            if (a.isAnyLocalAddress() || a.isMulticastAddress()) {
                throw error(c, key, "'" + text + "' is not an address clients can connect to");
            }
            if (a instanceof java.net.Inet4Address four) {
                if (!takesV4) {
                    throw error(c, key, "'" + text + "' is IPv4 but the listener listens on IPv6 only " + listen);
                }
                if (v4.isPresent()) {
                    throw error(c, key, "names two IPv4 addresses; a listener announces one per family");
                }
                v4 = Optional.of(four);
            } else {
                if (!takesV6) {
                    throw error(c, key, "'" + text + "' is IPv6 but the listener listens on IPv4 only " + listen);
                }
                if (v6.isPresent()) {
                    throw error(c, key, "names two IPv6 addresses; a listener announces one per family");
                }
                v6 = Optional.of((java.net.Inet6Address) a);
            }
        }
        if (texts.isEmpty()) {
            throw error(c, key, "is empty; remove it to announce data.advertised-address");
        }
        return new AdvertisedAddresses(v4, v6);
    }

    private static final String PROXY_DEFAULTS = "listener-defaults.proxy-protocol";

    /** A listener's PROXY protocol: its own block over {@code listener-defaults.proxy-protocol}. */
    private static Settings.ProxyProtocol proxyProtocol(Config c, String own) throws ConfigError {
        checkBlock(c, own, PROXY_DEFAULTS);
        String trustedKey = pick(c, own, PROXY_DEFAULTS, "trusted");
        List<Cidr> trusted = new ArrayList<>();
        for (String n : c.getStringList(trustedKey)) {
            trusted.add(parse(c, trustedKey, n, Cidr::parse));
        }
        String enabledKey = pick(c, own, PROXY_DEFAULTS, "enabled");
        boolean enabled = get(c, enabledKey, c::getBoolean);
        if (enabled && trusted.isEmpty() && !own.equals(PROXY_DEFAULTS)) {
            throw error(c, enabledKey, "needs trusted: the addresses of the load balancers that send the header");
        }
        String dataKey = pick(c, own, PROXY_DEFAULTS, "data-connections");
        boolean data = get(c, dataKey, c::getBoolean);
        if (data && !enabled && dataKey.startsWith(own + ".") && !own.equals(PROXY_DEFAULTS)) {
            // The header on a data connection is checked against the client the control
            // connection's header named; without that, the load balancer's address would be the
            // client and no data connection could match.
            throw error(c, dataKey, "needs enabled = true: data connections are matched to the client that the "
                    + "control connection's PROXY header names");
        }
        // A default of true applies to the listeners that take the PROXY protocol at all.
        return new Settings.ProxyProtocol(enabled, trusted, positive(c, pick(c, own, PROXY_DEFAULTS, "header-timeout")),
                data && enabled);
    }

    /**
     * The kernel path forwards a data connection past the gateway, PROXY header and all: the server
     * would store the header in uploaded files and the client would never be checked. Refused
     * rather than silently relayed, so that the admin chooses.
     */
    private static void checkProxiedData(Config c, List<Settings.Listener> listeners, Settings.Data data) throws ConfigError {
        if (data.path() != Settings.DataPath.KERNEL) {
            return;
        }
        for (Settings.Listener l : listeners) {
            if (l.proxyProtocol().dataConnections()) {
                String key = c.hasPathOrNull("listeners." + l.name() + ".proxy-protocol.data-connections")
                        ? "listeners." + l.name() + ".proxy-protocol.data-connections"
                        : PROXY_DEFAULTS + ".data-connections";
                throw error(c, key, "data connections with a PROXY header cannot take data.path = kernel (the kernel "
                        + "would pass the header on to the FTP server); set data.path = relay, or let data "
                        + "connections bypass the load balancer");
            }
        }
    }

    private static List<Settings.Listener> listeners(Config c) throws ConfigError {
        proxyProtocol(c, PROXY_DEFAULTS);
        oneOf(c, "listener-defaults." + UPSTREAM_PROXY, UpstreamProxyProtocol.class);
        oneOf(c, "destinations." + UPSTREAM_PROXY, UpstreamProxyProtocol.class);
        listenerTls(c, TLS_DEFAULTS);
        upstreamTls(c, UPSTREAM_TLS_DEFAULTS, UPSTREAM_TLS_DEFAULTS);
        Config all = c.getConfig("listeners");
        List<Settings.Listener> result = new ArrayList<>();
        for (String name : all.root().keySet().stream().sorted().toList()) {
            String key = "listeners." + name;
            if (all.root().get(name).valueType() != ConfigValueType.OBJECT) {
                throw error(c, key, "must be an object { listen = [...], upstream = \"HOST:PORT\" }");
            }
            if (!name.matches("[A-Za-z0-9_-]{1,32}")) {
                throw error(c, key, "listener names are 1-32 letters, digits, '-' or '_'");
            }
            Config l = c.getConfig(key);
            // rejectUnknownKeys skips listeners (their names are the user's): check their keys here.
            for (String k : l.root().keySet().stream().sorted().toList()) {
                if (!LISTENER_KEYS.contains(k)) {
                    throw error(c, key + "." + k,
                            "unknown key (a listener has only mode, listen, upstream, tls, upstream-tls, proxy-protocol, "
                            + "upstream-proxy-protocol and advertised-address)");
                }
            }
            Settings.Mode mode = Settings.Mode.EXPLICIT;
            if (l.hasPath("mode")) {
                try {
                    mode = Settings.Mode.valueOf(l.getString("mode").trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw error(c, key + ".mode", "must be explicit, transparent or forward");
                }
            }
            if (!l.hasPath("listen") || (mode == Settings.Mode.EXPLICIT && !l.hasPath("upstream"))) {
                throw error(c, key, "needs both listen and upstream");
            }
            if (mode != Settings.Mode.EXPLICIT && l.hasPath("upstream")) {
                throw error(c, key + ".upstream", "a " + mode.name().toLowerCase(Locale.ROOT)
                        + " listener finds its server itself; remove upstream");
            }
            List<Endpoint> listen = new ArrayList<>();
            for (String s : l.getStringList("listen")) {
                Endpoint e = parse(c, key + ".listen", s, Endpoint::parse);
                if (!e.isLiteral()) {
                    throw error(c, key + ".listen", "'" + s + "' must be an IP address, not a host name");
                }
                listen.add(e);
            }
            if (listen.isEmpty()) {
                throw error(c, key + ".listen", "needs at least one ADDR:PORT");
            }
            Endpoint upstream = null;
            if (mode == Settings.Mode.EXPLICIT) {
                upstream = parse(c, key + ".upstream", l.getString("upstream"), Endpoint::parse);
                if (upstream.port() == 0) {
                    throw error(c, key + ".upstream", "port 0 is not a server port");
                }
            } else if (c.getStringList("destinations.allow").isEmpty()) {
                throw error(c, "destinations.allow", "is empty, so the " + mode.name().toLowerCase(Locale.ROOT)
                        + " listener " + name + " could reach no server; allow some networks");
            }
            Settings.UpstreamTls upstreamTls;
            if (mode == Settings.Mode.EXPLICIT) {
                upstreamTls = upstreamTls(c, key + ".upstream-tls", UPSTREAM_TLS_DEFAULTS);
            } else if (l.hasPath("upstream-tls")) {
                throw error(c, key + ".upstream-tls", "a " + mode.name().toLowerCase(Locale.ROOT)
                        + " listener's servers take destinations.upstream-tls; remove upstream-tls");
            } else {
                upstreamTls = upstreamTls(c, "destinations.upstream-tls", "destinations.upstream-tls");
            }
            Settings.ProxyProtocol proxy = proxyProtocol(c, key + ".proxy-protocol");
            if (proxy.enabled() && mode == Settings.Mode.TRANSPARENT) {
                throw error(c, key + ".proxy-protocol.enabled", "a transparent listener sees clients directly; "
                        + "the PROXY protocol is for listeners behind a load balancer");
            }
            UpstreamProxyProtocol toServer;
            if (mode == Settings.Mode.EXPLICIT) {
                toServer = oneOf(c, pick(c, key, "listener-defaults", UPSTREAM_PROXY), UpstreamProxyProtocol.class);
            } else if (l.hasPath(UPSTREAM_PROXY)) {
                throw error(c, key + "." + UPSTREAM_PROXY, "a " + mode.name().toLowerCase(Locale.ROOT)
                        + " listener's servers take destinations." + UPSTREAM_PROXY + "; remove " + UPSTREAM_PROXY);
            } else {
                toServer = oneOf(c, "destinations." + UPSTREAM_PROXY, UpstreamProxyProtocol.class);
            }
            result.add(new Settings.Listener(name, mode, listen, upstream, listenerTls(c, key + ".tls"), upstreamTls, proxy,
                    toServer, advertisedAddresses(c, key + ".advertised-address", listen)));
        }
        if (result.stream().filter(l -> l.mode() == Settings.Mode.TRANSPARENT).count() > 1) {
            throw error(c, "listeners", "at most one listener can be transparent");
        }
        return result;
    }

    private static Settings.Data data(Config c) throws ConfigError {
        String advertised = c.getString("data.advertised-address").trim();
        Optional<InetAddress> advertisedAddress = Optional.empty();
        if (!advertised.isEmpty()) {
            if (!advertised.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                throw error(c, "data.advertised-address", "'" + advertised + "' must be an IP address");
            }
            try {
                advertisedAddress = Optional.of(InetAddress.getByName(advertised));
            } catch (UnknownHostException e) {
                throw error(c, "data.advertised-address", "'" + advertised + "' is not a valid IP address");
            }
        }
        int low = bytesIn(c, "data.write-buffer-low");
        int high = bytesIn(c, "data.write-buffer-high");
        if (low > high) {
            throw error(c, "data.write-buffer-low", "must not exceed data.write-buffer-high");
        }
        Settings.DataPath path;
        try {
            path = Settings.DataPath.valueOf(c.getString("data.path").trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw error(c, "data.path", "must be relay or kernel");
        }
        return new Settings.Data(
                parse(c, "data.port-range", c.getString("data.port-range"), Settings.PortRange::parse),
                positive(c, "data.connect-timeout"),
                positive(c, "data.idle-timeout"),
                advertisedAddress,
                get(c, "data.active-to-passive", c::getBoolean),
                get(c, "data.trust-passive-address", c::getBoolean),
                low,
                high,
                path,
                relay(c));
    }

    /** An enum value written in lower case with dashes; the error lists the choices. */
    private static <E extends Enum<E>> E enumOf(Config c, String key, Class<E> type) throws ConfigError {
        String text = c.getString(key).trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Enum.valueOf(type, text);
        } catch (IllegalArgumentException e) {
            StringBuilder choices = new StringBuilder();
            for (E v : type.getEnumConstants()) {
                choices.append(choices.length() == 0 ? "" : ", ").append(v.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw error(c, key, "must be one of: " + choices);
        }
    }

    private static Settings.Relay relay(Config c) throws ConfigError {
        String relay = c.getString("data.relay").trim().toUpperCase(Locale.ROOT);
        try {
            return Settings.Relay.valueOf(relay);
        } catch (IllegalArgumentException e) {
            throw error(c, "data.relay", "must be one of: splice, copy");
        }
    }

    private static Settings.Firewall firewall(Config c) throws ConfigError {
        String backend = c.getString("firewall.backend").trim().toUpperCase(Locale.ROOT);
        Settings.Backend b;
        try {
            b = Settings.Backend.valueOf(backend);
        } catch (IllegalArgumentException e) {
            throw error(c, "firewall.backend", "must be one of: iptables, ipset, nftables, none");
        }
        String prefix = c.getString("firewall.chain-prefix");
        if (!prefix.matches("[A-Za-z][A-Za-z0-9_-]{0,20}")) {
            throw error(c, "firewall.chain-prefix", "must be a letter then up to 20 letters, digits, '-' or '_'");
        }
        return new Settings.Firewall(
                b,
                prefix,
                get(c, "firewall.guard-output", c::getBoolean),
                nonEmpty(c, "firewall.iptables"),
                nonEmpty(c, "firewall.ip6tables"),
                nonEmpty(c, "firewall.ipset"),
                c.getStringList("firewall.command-prefix"),
                positive(c, "firewall.command-timeout"),
                nftables(c),
                nonNegative(c, "firewall.check-interval"));
    }

    private static Settings.Nftables nftables(Config c) throws ConfigError {
        String table = c.getString("firewall.nftables.table");
        if (!table.matches("[A-Za-z][A-Za-z0-9_-]{0,30}")) {
            throw error(c, "firewall.nftables.table", "must be a letter then up to 30 letters, digits, '-' or '_'");
        }
        String markText = c.getString("firewall.nftables.mark").trim();
        long mark;
        try {
            mark = markText.matches("0[xX][0-9a-fA-F]{1,8}") ? Long.parseLong(markText.substring(2), 16) : -1;
        } catch (NumberFormatException e) {
            mark = -1;
        }
        if (mark <= 0) {
            throw error(c, "firewall.nftables.mark", "must be a non-zero hexadecimal 32-bit mask such as \"0x00800000\"");
        }
        List<String> chains = c.getStringList("firewall.nftables.hook-chains");
        for (String chain : chains) {
            if (!chain.strip().matches("(ip|ip6|inet)\\s+[A-Za-z0-9_.-]+\\s+[A-Za-z0-9_.-]+")) {
                throw error(c, "firewall.nftables.hook-chains", "'" + chain + "' is not FAMILY TABLE CHAIN"
                        + " (family ip, ip6 or inet), e.g. \"inet filter input\"");
            }
        }
        return new Settings.Nftables(
                nonEmpty(c, "firewall.nftables.nft"),
                table,
                // Above conntrack (-200), so that ct state is known; below the admin's filter chains.
                intIn(c, "firewall.nftables.priority", -199, 99),
                mark,
                get(c, "firewall.nftables.manage-hook-rules", c::getBoolean),
                chains);
    }

    /** Paths the metrics endpoint serves besides metrics.path. */
    private static final List<String> RESERVED_PATHS = List.of("/health", "/ready", "/drain", "/undrain");

    private static Settings.Metrics metrics(Config c) throws ConfigError {
        String listen = c.getString("metrics.listen").trim();
        String path = c.getString("metrics.path");
        if (!path.startsWith("/")) {
            throw error(c, "metrics.path", "must start with '/'");
        }
        if (RESERVED_PATHS.stream().anyMatch(r -> path.equals(r) || path.startsWith(r + "/"))) {
            throw error(c, "metrics.path", "'" + path + "' is taken by the endpoint itself " + RESERVED_PATHS);
        }
        if (listen.isEmpty()) {
            return new Settings.Metrics(Optional.empty(), path);
        }
        Endpoint e = parse(c, "metrics.listen", listen, Endpoint::parse);
        if (!e.isLiteral()) {
            throw error(c, "metrics.listen", "'" + listen + "' must be an IP address, not a host name");
        }
        return new Settings.Metrics(Optional.of(e), path);
    }

    private static <T> T parse(Config c, String key, String text, Function<String, T> parser) throws ConfigError {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw error(c, key, e.getMessage());
        }
    }

    /** Reads one value; a wrong type or format becomes an error naming origin and full key. */
    private static <T> T get(Config c, String key, Function<String, T> getter) throws ConfigError {
        try {
            return getter.apply(key);
        } catch (ConfigException e) {
            String m = e.getMessage();
            int cut = m.indexOf("': ");
            throw error(c, key, cut >= 0 ? m.substring(cut + 3) : m);
        }
    }

    private static int intIn(Config c, String key, int min, int max) throws ConfigError {
        int v = get(c, key, c::getInt);
        if (v < min || v > max) {
            throw error(c, key, v + " is not in " + min + ".." + max);
        }
        return v;
    }

    private static int bytesIn(Config c, String key) throws ConfigError {
        long v = get(c, key, c::getBytes);
        if (v < 1024 || v > 64L * 1024 * 1024) {
            throw error(c, key, v + " bytes is not in 1k..64m");
        }
        return (int) v;
    }

    private static Duration positive(Config c, String key) throws ConfigError {
        Duration d = get(c, key, c::getDuration);
        if (d.isNegative() || d.isZero()) {
            throw error(c, key, "must be a positive duration such as 10s");
        }
        return d;
    }

    /** The instance name as written, or the host name when empty. */
    private static String instanceName(Config c) throws ConfigError {
        String name = c.getString("instance-name").trim();
        if (name.isEmpty()) {
            name = hostName();
        }
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
            throw error(c, "instance-name", "'" + name + "' must be 1-63 letters, digits, '.', '-' or '_'"
                    + (c.getString("instance-name").isBlank() ? " (it is the host name; set instance-name)" : ""));
        }
        return name;
    }

    /** The kernel's host name (no DNS lookup), as hostname(1) prints it. */
    private static String hostName() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (java.io.IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "ftpgate" : env.trim();
        }
    }

    private static Duration nonNegative(Config c, String key) throws ConfigError {
        Duration d = get(c, key, c::getDuration);
        if (d.isNegative()) {
            throw error(c, key, "must be a duration of 0s or more");
        }
        return d;
    }

    private static String nonEmpty(Config c, String key) throws ConfigError {
        String s = c.getString(key).trim();
        if (s.isEmpty()) {
            throw error(c, key, "must not be empty");
        }
        return s;
    }

    private static ConfigError error(Config c, String key, String problem) {
        String where = c.hasPathOrNull(key) ? c.getValue(key).origin().description() : "configuration";
        return new ConfigError(where + ": " + ROOT + "." + key + ": " + problem);
    }
}
