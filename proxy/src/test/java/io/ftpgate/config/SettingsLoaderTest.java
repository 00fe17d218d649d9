package io.ftpgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SettingsLoaderTest {
    @TempDir
    Path dir;

    private Settings load(String hocon) throws Exception {
        Path f = dir.resolve("ftpgate.conf");
        Files.writeString(f, hocon);
        return SettingsLoader.load(Optional.of(f), ConfigFactory.empty());
    }

    @Test
    void defaultsComeFromReferenceConf() throws Exception {
        Settings s = SettingsLoader.load(Optional.empty(), ConfigFactory.empty());
        assertThat(s.listeners()).isEmpty();
        assertThat(s.data().portRange()).isEqualTo(new Settings.PortRange(40000, 40999));
        assertThat(s.data().activeToPassive()).isTrue();
        assertThat(s.data().trustPassiveAddress()).isFalse();
        assertThat(s.data().path()).isEqualTo(Settings.DataPath.RELAY);
        assertThat(s.data().relay()).isEqualTo(Settings.Relay.SPLICE);
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.NONE);
        assertThat(s.firewall().chainPrefix()).isEqualTo("FTPGATE");
        assertThat(s.control().idleTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(s.control().eventLoopThreads()).as("one event loop per CPU")
                .isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(s.metrics().listen()).contains(new Endpoint("127.0.0.1", 9121));
    }

    @Test
    void eventLoopsCanBeSet() throws Exception {
        Settings s = SettingsLoader.load(Optional.empty(), ConfigFactory.parseString("ftpgate.control.event-loops = 3"));
        assertThat(s.control().eventLoopThreads()).isEqualTo(3);
    }

    @Test
    void listenersInBothFamilies() throws Exception {
        Settings s = load("""
                ftpgate.listeners {
                  b { listen = ["[2001:db8:1::1]:21"], upstream = "[2001:db8:2::2]:21" }
                  a { listen = ["198.51.100.1:21", "[::]:2121"], upstream = "ftp.example.net:21" }
                }
                ftpgate.firewall.backend = iptables
                """);
        assertThat(s.listeners()).extracting(Settings.Listener::name).containsExactly("a", "b");
        assertThat(s.listeners().get(0).listen()).containsExactly(new Endpoint("198.51.100.1", 21), new Endpoint("::", 2121));
        assertThat(s.listeners().get(0).upstream().isLiteral()).isFalse();
        assertThat(s.listeners().get(1).upstream()).isEqualTo(new Endpoint("2001:db8:2::2", 21));
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.IPTABLES);
    }

    @Test
    void theIpsetBackendAndItsBinary() throws Exception {
        Settings s = load("""
                ftpgate.firewall { backend = ipset, ipset = "/usr/sbin/ipset", command-prefix = ["ip", "netns", "exec", "gw"] }
                """);
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.IPSET);
        assertThat(s.firewall().ipset()).isEqualTo("/usr/sbin/ipset");
        assertThat(s.firewall().commandPrefix()).containsExactly("ip", "netns", "exec", "gw");
        assertThat(SettingsLoader.load(Optional.empty(), ConfigFactory.empty()).firewall().ipset()).isEqualTo("ipset");
    }

    @Test
    void commandLineOverridesTheFile() throws Exception {
        Path f = dir.resolve("x.conf");
        Files.writeString(f, "ftpgate.firewall.backend = iptables\n");
        Settings s = SettingsLoader.load(Optional.of(f), ConfigFactory.parseMap(Map.of("ftpgate.firewall.backend", "none")));
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.NONE);
    }

    @Test
    void abuseControlsAreOffByDefaultAndReadWithTheirUnits() throws Exception {
        Settings.Abuse off = load("").abuse();
        assertThat(off.maxSessionsPerAddress()).isZero();
        assertThat(off.loginFailures().limit()).isZero();
        assertThat(off.commandsPerSecond()).isZero();
        assertThat(off.bandwidthTotal()).isZero();
        Settings.Abuse on = load("ftpgate.abuse { max-sessions-per-ipv6-prefix = 7, login-failures { limit = 5, ban = 1h }, "
                + "bandwidth.per-session = 512k, bandwidth.total = 10m }\n").abuse();
        assertThat(on.maxSessionsPerIpv6Prefix()).isEqualTo(7);
        assertThat(on.loginFailures().limit()).isEqualTo(5);
        assertThat(on.loginFailures().ban()).isEqualTo(java.time.Duration.ofHours(1));
        assertThat(on.bandwidthPerSession()).isEqualTo(512 * 1024);
        assertThat(on.bandwidthTotal()).isEqualTo(10 * 1024 * 1024);
    }

    @Test
    void theCopyingRelayCanBeChosen() throws Exception {
        assertThat(load("ftpgate.data.relay = copy\n").data().relay()).isEqualTo(Settings.Relay.COPY);
        assertThat(load("ftpgate.data.relay = Splice\n").data().relay()).isEqualTo(Settings.Relay.SPLICE);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "ftpgate.data.port-range = \"80-90\"|ftpgate.conf: 1: ftpgate.data.port-range",
            "ftpgate.data.port-range = \"5000\"|ftpgate.data.port-range",
            "ftpgate.control.max-line-length = 10|ftpgate.control.max-line-length: 10 is not in",
            "ftpgate.control.idle-timeout = 0s|ftpgate.control.idle-timeout: must be a positive duration",
            "ftpgate.control.idle-timeout = soon|ftpgate.control.idle-timeout",
            "ftpgate.firewall.backend = pf|ftpgate.firewall.backend: must be one of: iptables, ipset, nftables, none",
            "ftpgate.firewall.nftables.mark = 8388608|ftpgate.firewall.nftables.mark: must be a non-zero hexadecimal 32-bit mask",
            "ftpgate.firewall.nftables.mark = \"0x0\"|ftpgate.firewall.nftables.mark",
            "ftpgate.firewall.nftables.hook-chains = [\"filter input\"]|ftpgate.firewall.nftables.hook-chains: 'filter input' is not FAMILY TABLE CHAIN",
            "ftpgate.firewall.nftables.priority = -200|ftpgate.firewall.nftables.priority",
            "ftpgate.firewall.nftables.table = \"in et\"|ftpgate.firewall.nftables.table",
            "ftpgate.firewall.ipset = \"\"|ftpgate.firewall.ipset",
            "ftpgate.data.advertised-address = gateway.example|ftpgate.data.advertised-address",
            "ftpgate.data.relay = zero-copy|ftpgate.conf: 1: ftpgate.data.relay: must be one of: splice, copy",
            "ftpgate.dta.port-range = \"1-2\"|unknown key ftpgate.dta.port-range",
            "ftpgate.listeners.x { listen = [\"host:21\"], upstream = \"a:21\" }|must be an IP address",
            "ftpgate.listeners.x { listen = [\"1.2.3.4:21\"] }|needs both listen and upstream",
            "ftpgate.listeners.x { listen = [\"1.2.3.4:21\"], upstream = \"a:21\", colour = blue }|ftpgate.listeners.x.colour: unknown key",
            "ftpgate.listeners.x { mode = forward, listen = [\"1.2.3.4:21\"], data.active-to-passive = false }|ftpgate.listeners.x.data: unknown key",
            "ftpgate.listeners.x { listen = [\"1.2.3.4:99999\"], upstream = \"a:21\" }|not in 0..65535",
            "ftpgate.listeners.x { listen = [\"2001:db8::1:21\"], upstream = \"a:21\" }|write IPv6 as [ADDR]:PORT",
            "ftpgate { control {|ftpgate.conf: 1",
            "ftpgate.listeners.x { mode = sideways, listen = [\"1.2.3.4:21\"] }|must be explicit, transparent or forward",
            "ftpgate.listeners.x { mode = forward, listen = [\"1.2.3.4:21\"] }|ftpgate.destinations.allow: is empty",
            "ftpgate.listeners.x { mode = forward, listen = [\"1.2.3.4:21\"], upstream = \"a:21\" }|remove upstream",
            "ftpgate.destinations.allow = [\"10.0.0.0/33\"]|prefix length must be 0..32",
            "ftpgate.destinations.allow = [\"example.net/8\"]|is not ADDRESS/PREFIX",
            "ftpgate.transparent.announce = both|must be server or gateway",
            "ftpgate.data.path = splice|ftpgate.conf: 1: ftpgate.data.path: must be relay or kernel",
            "ftpgate.transparent.routing-table = 255|is not in 1..252",
            "ftpgate.abuse.max-sessions-per-address = -1|ftpgate.conf: 1: ftpgate.abuse.max-sessions-per-address: -1 is not in 0..1000000",
            "ftpgate.abuse.login-failures.window = 0s|ftpgate.abuse.login-failures.window: must be between 1s and 86400s",
            "ftpgate.abuse.login-failures.ban = 31d|ftpgate.abuse.login-failures.ban: must be between 1s and 2592000s",
            "ftpgate.abuse.login-failures.max-addresses = 10|ftpgate.abuse.login-failures.max-addresses: 10 is not in 100..10000000",
            "ftpgate.abuse.command-burst = 0|ftpgate.abuse.command-burst: 0 is not in 1..100000",
            "ftpgate.control.event-loops = -1|ftpgate.control.event-loops: -1 is not in 0..1024",
            "ftpgate.abuse.bandwidth.total = 1k|ftpgate.abuse.bandwidth.total: 1024 bytes per second is not 0 or in 16k..100g",
            "ftpgate.abuse.bandwidth.per-session = fast|ftpgate.abuse.bandwidth.per-session",
            "ftpgate.abuse.max-session-per-address = 1|unknown key ftpgate.abuse.max-session-per-address",
    })
    void errorsNameFileLineAndKey(String hocon, String expected) {
        assertThatThrownBy(() -> load(hocon)).isInstanceOf(ConfigError.class).hasMessageContaining(expected);
    }

    @Test
    void theNftablesBackendAndItsKeys() throws Exception {
        Settings s = load("""
                ftpgate.firewall { backend = nftables, guard-output = true }
                ftpgate.firewall.nftables { table = gw, priority = -5, mark = "0x10", manage-hook-rules = false,
                    hook-chains = ["inet filter input", "ip  fw  out"] }
                """);
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.NFTABLES);
        assertThat(s.firewall().nftables()).isEqualTo(new Settings.Nftables("nft", "gw", -5, 0x10L, false,
                java.util.List.of("inet filter input", "ip  fw  out")));
        assertThat(load("").firewall().nftables()).isEqualTo(new Settings.Nftables("nft", "ftpgate", -10, 0x00800000L,
                true, java.util.List.of("inet filter input")));
        assertThat(load("").firewall().checkInterval()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(load("ftpgate.firewall.check-interval = 0").firewall().checkInterval()).isZero();
    }

    @Test
    void theKernelPathIsChosenByDataPath() throws Exception {
        assertThat(load("ftpgate.data.path = kernel").data().path()).isEqualTo(Settings.DataPath.KERNEL);
        assertThat(load("ftpgate.data.path = RELAY").data().path()).isEqualTo(Settings.DataPath.RELAY);
    }

    @Test
    void transparentAndForwardListeners() throws Exception {
        Settings s = load("""
                ftpgate.listeners {
                  t { mode = transparent, listen = ["0.0.0.0:2121"] }
                  f { mode = forward, listen = ["198.51.100.1:2121"] }
                }
                ftpgate.destinations.allow = ["203.0.113.0/24"]
                ftpgate.transparent { interfaces = ["veth0"], announce = gateway, preserve-client-address = true }
                """);
        assertThat(s.listeners()).extracting(Settings.Listener::mode)
                .containsExactly(Settings.Mode.FORWARD, Settings.Mode.TRANSPARENT);
        assertThat(s.listeners().get(0).upstream()).isNull();
        assertThat(s.transparent().announceServerAddress()).isFalse();
        assertThat(s.transparent().preserveClientAddress()).isTrue();
        assertThat(s.transparent().ports()).containsExactly(21);
        assertThat(s.destinations().ports()).containsExactly(21);
    }

    private static final String L = "ftpgate.listeners.x { listen = [\"127.0.0.1:21\"], upstream = \"a:21\", ";

    @Test
    void tlsIsOffByDefaultOnBothLegs() throws Exception {
        Settings s = load(L + "}");
        Settings.Listener x = s.listeners().get(0);
        assertThat(x.tls()).usingRecursiveComparison().ignoringFields("provider").isEqualTo(Settings.ListenerTls.OFF);
        assertThat(x.tls().enabled()).isFalse();
        assertThat(x.upstreamTls()).usingRecursiveComparison().ignoringFields("provider").isEqualTo(Settings.UpstreamTls.OFF);
        assertThat(s.destinations().upstreamTls()).usingRecursiveComparison().ignoringFields("provider")
                .isEqualTo(Settings.UpstreamTls.OFF);
        assertThat(x.tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(x.tls().dataSessionReuse()).isEqualTo(Settings.DataSessionReuse.OPTIONAL);
        assertThat(x.upstreamTls().protection()).isEqualTo(Settings.Protection.PRIVATE);
        assertThat(x.tls().provider()).as("BoringSSL: faster, and resumes TLS 1.3 sessions where the JDK's one ticket runs out")
                .isEqualTo(Settings.TlsProvider.OPENSSL);
        assertThat(x.upstreamTls().provider()).isEqualTo(Settings.TlsProvider.OPENSSL);
    }

    @Test
    void tlsProviderOpensslHoldsForBothLegsOfEveryListenerAndTheDestinations() throws Exception {
        Settings s = load(L + "}\nftpgate.tls.provider = openssl\n");
        assertThat(s.listeners().get(0).tls().provider()).isEqualTo(Settings.TlsProvider.OPENSSL);
        assertThat(s.listeners().get(0).upstreamTls().provider()).isEqualTo(Settings.TlsProvider.OPENSSL);
        assertThat(s.destinations().upstreamTls().provider()).isEqualTo(Settings.TlsProvider.OPENSSL);
    }

    @Test
    void anExplicitFtpsListenerWithAVerifiedServerLeg() throws Exception {
        Path cert = Files.writeString(dir.resolve("chain.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        Settings s = load("""
                ftpgate.listeners.x {
                  listen = ["127.0.0.1:21"], upstream = "ftp.example.net:21"
                  tls { mode = explicit, certificate = "%s", private-key = "%s", protocols = ["TLSv1.3"]
                        required = true, allow-clear-data = false, data-session-reuse = required }
                  upstream-tls { mode = follow, verify = ca-file, ca-file = "%s", sni = "ftp.example.net"
                                 protection = follow }
                }
                """.formatted(cert, key, ca));
        Settings.ListenerTls tls = s.listeners().get(0).tls();
        assertThat(tls).usingRecursiveComparison().ignoringFields("provider").isEqualTo(new Settings.ListenerTls(
                Settings.TlsMode.EXPLICIT, Optional.of(cert), Optional.of(key),
                java.util.List.of("TLSv1.3"), true, false, Settings.DataSessionReuse.REQUIRED));
        assertThat(tls.provider()).as("the default provider").isEqualTo(Settings.TlsProvider.OPENSSL);
        Settings.UpstreamTls up = s.listeners().get(0).upstreamTls();
        assertThat(up.mode()).isEqualTo(Settings.UpstreamTlsMode.FOLLOW);
        assertThat(up.verify()).isEqualTo(Settings.Verify.CA_FILE);
        assertThat(up.caFile()).contains(ca);
        assertThat(up.sni()).contains("ftp.example.net");
        assertThat(up.protection()).isEqualTo(Settings.Protection.FOLLOW);
        assertThat(up.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
    }

    @Test
    void listenerDefaultsApplyToEveryListenerAndTheListenerWins() throws Exception {
        Settings s = load("""
                ftpgate.listener-defaults.tls.data-session-reuse = required
                ftpgate.listener-defaults.upstream-tls { mode = implicit, verify = fingerprint
                  fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" }
                ftpgate.listeners {
                  a { listen = ["127.0.0.1:21"], upstream = "a:990" }
                  b { listen = ["127.0.0.1:22"], upstream = "b:21", upstream-tls.mode = off, tls.data-session-reuse = optional }
                }
                """);
        Settings.Listener a = s.listeners().get(0);
        Settings.Listener b = s.listeners().get(1);
        assertThat(a.tls().dataSessionReuse()).isEqualTo(Settings.DataSessionReuse.REQUIRED);
        assertThat(a.upstreamTls().mode()).isEqualTo(Settings.UpstreamTlsMode.IMPLICIT);
        assertThat(a.upstreamTls().fingerprint()).contains("abcdef0123456789".repeat(4));
        assertThat(b.tls().dataSessionReuse()).isEqualTo(Settings.DataSessionReuse.OPTIONAL);
        assertThat(b.upstreamTls().mode()).isEqualTo(Settings.UpstreamTlsMode.OFF);
        assertThat(b.upstreamTls().verify()).isEqualTo(Settings.Verify.FINGERPRINT);
    }

    @Test
    void transparentAndForwardListenersTakeTheDestinationsPolicy() throws Exception {
        Settings s = load("""
                ftpgate.listeners.f { mode = forward, listen = ["127.0.0.1:2121"] }
                ftpgate.destinations { allow = ["203.0.113.0/24"], upstream-tls { mode = explicit, verify = insecure } }
                """);
        assertThat(s.destinations().upstreamTls().verify()).isEqualTo(Settings.Verify.INSECURE);
        assertThat(s.listeners().get(0).upstreamTls()).isEqualTo(s.destinations().upstreamTls());
        assertThat(s.listeners().get(0).upstreamTls().mode()).isEqualTo(Settings.UpstreamTlsMode.EXPLICIT);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "tls { mode = explicit } }|ftpgate.conf: 1: ftpgate.listeners.x.tls.mode: explicit needs the gateway's certificate and private-key",
            "tls { mode = sometimes } }|ftpgate.conf: 1: ftpgate.listeners.x.tls.mode: must be one of: off, explicit, implicit",
            "tls { mode = implicit, certificate = \"/nonexistent/chain.pem\", private-key = \"/nonexistent/key.pem\" } }|ftpgate.listeners.x.tls.certificate: cannot read '/nonexistent/chain.pem'",
            "tls { protocols = [\"TLSv1.1\"] } }|ftpgate.listeners.x.tls.protocols: 'TLSv1.1' is not one of TLSv1.3, TLSv1.2",
            "tls { protocols = [] } }|ftpgate.listeners.x.tls.protocols: needs at least one of",
            "tls { colour = blue } }|ftpgate.conf: 1: ftpgate.listeners.x.tls.colour: unknown key",
            "tls = on }|ftpgate.listeners.x.tls: must be an object",
            "tls { data-session-reuse = always } }|ftpgate.listeners.x.tls.data-session-reuse: must be one of: optional, required",
            "tls { required = maybe } }|ftpgate.listeners.x.tls.required",
            "upstream-tls { mode = explicit, verify = fingerprint } }|ftpgate.listeners.x.upstream-tls.verify: fingerprint needs fingerprint",
            "upstream-tls { mode = explicit, verify = ca-file } }|ftpgate.listeners.x.upstream-tls.verify: ca-file needs ca-file",
            "upstream-tls { verify = pinned } }|must be one of: system, ca-file, fingerprint, insecure",
            "upstream-tls { fingerprint = \"ab:cd\" } }|ftpgate.listeners.x.upstream-tls.fingerprint: must be a SHA-256 fingerprint",
            "upstream-tls { sni = \"10.0.0.1\" } }|ftpgate.listeners.x.upstream-tls.sni: '10.0.0.1' must be a DNS host name",
            "upstream-tls { sni = \"bad_name!\" } }|ftpgate.listeners.x.upstream-tls.sni",
            "upstream-tls { client-certificate = \"/etc/hostname\" } }|client-certificate and client-key go together",
            "upstream-tls { mode = sometimes } }|must be one of: off, explicit, implicit, follow",
            "upstream-tls { protection = none } }|ftpgate.listeners.x.upstream-tls.protection: must be one of: private, follow, clear",
            "upstream-tls { mode = explicit, verify = ca-file, ca-file = \"/nonexistent/ca.pem\" } }|ftpgate.listeners.x.upstream-tls.ca-file: cannot read",
    })
    void tlsErrorsNameFileLineAndKey(String block, String expected) {
        assertThatThrownBy(() -> load(L + block)).isInstanceOf(ConfigError.class).hasMessageContaining(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "ftpgate.listener-defaults.tls.mood = x|ftpgate.conf: 1: unknown key ftpgate.listener-defaults.tls.mood",
            "ftpgate.destinations.upstream-tls.protection = none|ftpgate.conf: 1: ftpgate.destinations.upstream-tls.protection: must be one of",
            "ftpgate.tls.provider = boringssl|ftpgate.conf: 1: ftpgate.tls.provider: must be one of: jdk, openssl",
            "ftpgate.tls.provder = openssl|ftpgate.conf: 1: unknown key ftpgate.tls.provder",
            "ftpgate.listener-defaults.upstream-tls.verify = nope|ftpgate.conf: 1: ftpgate.listener-defaults.upstream-tls.verify",
            "ftpgate.listeners.f { mode = forward, listen = [\"1.2.3.4:21\"], upstream-tls.mode = explicit }, ftpgate.destinations.allow = [\"10.0.0.0/8\"]|ftpgate.listeners.f.upstream-tls: a forward listener's servers take destinations.upstream-tls",
    })
    void tlsDefaultErrorsNameFileLineAndKey(String hocon, String expected) {
        assertThatThrownBy(() -> load(hocon.replace("}, ", "}\n"))).isInstanceOf(ConfigError.class).hasMessageContaining(expected);
    }

    @Test
    void proxyProtocolAndDrainSettingsAreRead() throws Exception {
        Settings s = load(L + "proxy-protocol { enabled = true, trusted = [\"192.0.2.10\", \"2001:db8::/64\"] } }\n"
                + "ftpgate.listener-defaults.proxy-protocol.header-timeout = 2s\n"
                + "ftpgate.drain { lb-grace = 0s, timeout = 30m }\n");
        Settings.ProxyProtocol p = s.listeners().get(0).proxyProtocol();
        assertThat(p.enabled()).isTrue();
        assertThat(p.headerTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
        assertThat(p.trusts(java.net.InetAddress.getByName("192.0.2.10"))).isTrue();
        assertThat(p.trusts(java.net.InetAddress.getByName("192.0.2.11"))).isFalse();
        assertThat(p.trusts(java.net.InetAddress.getByName("2001:db8::99"))).isTrue();
        assertThat(p.dataConnections()).as("data connections come straight from the client by default").isFalse();
        assertThat(load(L + "proxy-protocol { enabled = true, trusted = [\"192.0.2.10\"], data-connections = true } }\n")
                .listeners().get(0).proxyProtocol().dataConnections()).isTrue();
        assertThat(s.drain()).isEqualTo(new Settings.Drain(java.time.Duration.ZERO, java.time.Duration.ofMinutes(30)));
        assertThat(s.instanceName()).as("the host name by default")
                .isEqualTo(java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).trim());
        assertThat(load("ftpgate.instance-name = gw-b.example\n").instanceName()).isEqualTo("gw-b.example");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "proxy-protocol { enabled = true } }|ftpgate.listeners.x.proxy-protocol.enabled: needs trusted",
            "proxy-protocol { trusted = [\"10.0.0.0/33\"] } }|ftpgate.listeners.x.proxy-protocol.trusted: '10.0.0.0/33': prefix length",
            "proxy-protocol { header-timeout = 0s } }|ftpgate.listeners.x.proxy-protocol.header-timeout: must be a positive duration",
            "proxy-protocol { version = 2 } }|ftpgate.listeners.x.proxy-protocol.version: unknown key",
            "proxy-protocol { data-connections = true } }|ftpgate.listeners.x.proxy-protocol.data-connections: needs enabled = true",
    })
    void proxyProtocolErrorsNameTheKey(String block, String expected) {
        assertThatThrownBy(() -> load(L + block)).isInstanceOf(ConfigError.class).hasMessageContaining(expected);
    }

    @Test
    void proxiedDataConnectionsRefuseTheKernelPathNamingTheKeyThatAskedForThem() {
        String proxied = L + "proxy-protocol { enabled = true, trusted = [\"10.0.0.1\"], data-connections = true } }\n";
        assertThatThrownBy(() -> load(proxied + "ftpgate.data.path = kernel\n")).isInstanceOf(ConfigError.class)
                .hasMessageContaining("ftpgate.conf: 1: ftpgate.listeners.x.proxy-protocol.data-connections: data connections "
                        + "with a PROXY header cannot take data.path = kernel (the kernel would pass the header on to the FTP "
                        + "server); set data.path = relay");
        assertThatThrownBy(() -> load(L + "proxy-protocol { enabled = true, trusted = [\"10.0.0.1\"] } }\n"
                + "ftpgate.listener-defaults.proxy-protocol.data-connections = true\nftpgate.data.path = kernel\n"))
                .hasMessageContaining("ftpgate.conf: 2: ftpgate.listener-defaults.proxy-protocol.data-connections: data "
                        + "connections with a PROXY header cannot take data.path = kernel");
    }

    @Test
    void transparentListenersTakeNoProxyProtocolAndDrainTimesAreChecked() {
        assertThatThrownBy(() -> load("ftpgate.destinations.allow = [\"10.0.0.0/8\"]\nftpgate.listeners.t { mode = transparent, "
                + "listen = [\"0.0.0.0:2121\"], proxy-protocol { enabled = true, trusted = [\"10.0.0.1\"] } }\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("ftpgate.listeners.t.proxy-protocol.enabled: a transparent listener sees clients directly");
        assertThatThrownBy(() -> load("ftpgate.drain.lb-grace = -1s\n")).hasMessageContaining("ftpgate.drain.lb-grace");
        assertThatThrownBy(() -> load("ftpgate.drain.timeout = 0s\n")).hasMessageContaining("ftpgate.drain.timeout");
        assertThatThrownBy(() -> load("ftpgate.metrics.path = \"/ready\"\n")).hasMessageContaining("ftpgate.metrics.path");
        assertThatThrownBy(() -> load("ftpgate.instance-name = \"gw a\"\n"))
                .hasMessageContaining("ftpgate.instance-name: 'gw a' must be 1-63 letters");
    }

    @Test
    void exampleProductionConfigIsValid() throws Exception {
        Path example = Path.of("../config/ftpgate.conf");
        Settings s = SettingsLoader.load(Optional.of(example), ConfigFactory.empty());
        assertThat(s.listeners()).hasSize(1);
        assertThat(s.firewall().backend()).isEqualTo(Settings.Backend.IPSET);
    }

    /**
     * --print-config: no key of reference.conf holds a secret today, but a key named like one (a
     * future key-store password, an API token) is masked wherever it is; key paths are not.
     */
    @Test
    void printedSettingsMaskSecretsButNotKeyPaths() throws Exception {
        Path f = Files.writeString(dir.resolve("secret.conf"), """
                ftpgate.listeners.dmz {
                  listen = ["127.0.0.1:2121"], upstream = "192.0.2.7:21"
                  tls { private-key = "/etc/ftpgate/tls/privkey.pem", key-password = "hunter2" }
                }
                """);
        String printed = SettingsLoader.render(Optional.of(f), ConfigFactory.parseMap(Map.of("ftpgate.metrics.api-token", "s3cr3t")));

        assertThat(printed).doesNotContain("hunter2", "s3cr3t")
                .contains("# " + f + ": 3\n", "key-password=\"********\"", "api-token=\"********\"")
                .contains("private-key=\"/etc/ftpgate/tls/privkey.pem\"");
    }
}
