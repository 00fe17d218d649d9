package io.ftpgate;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.data.Transport;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.firewall.NoFirewall;
import io.ftpgate.firewall.iptables.IpsetFirewall;
import io.ftpgate.firewall.iptables.IptablesFirewall;
import io.ftpgate.firewall.nftables.NftFirewall;
import io.ftpgate.firewall.nftables.NftRules;
import io.ftpgate.metrics.DrainSwitch;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.metrics.HealthProbes;
import io.ftpgate.metrics.MetricsEndpoint;
import io.ftpgate.metrics.MicrometerMetrics;
import io.ftpgate.session.ClientLegInitializer;
import io.ftpgate.session.LegTls;
import io.ftpgate.tls.ClientTls;
import io.ftpgate.tls.ServerTls;
import io.ftpgate.tls.TlsMaterialException;
import io.ftpgate.session.KernelPath;
import io.ftpgate.session.SessionRegistry;
import io.ftpgate.session.HostLookup;
import io.ftpgate.session.SessionServices;
import io.ftpgate.session.UpstreamDialer;
import io.netty.resolver.AddressResolverGroup;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import io.ftpgate.firewall.Interception;
import io.ftpgate.policy.Addresses;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: firewall backend set up (orphans of an earlier run removed), one event-loop
 * group for all sessions, every listener bound, the metrics endpoint up. {@link #close} stops
 * accepting, drains sessions for the grace period, and removes every firewall object.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private Settings settings;
    private final Transport transport;
    private final LeaseExecutor leases;
    /** The periodic check of the firewall's own objects, if any; cancelled before they are removed. */
    private volatile ScheduledFuture<?> firewallCheck;
    private final SessionRegistry registry;
    private final EventLoopGroup group;
    /** Non-blocking DNS for host-name upstreams, one resolver per event loop. */
    private final AddressResolverGroup<InetSocketAddress> resolvers;
    /** Bound listener addresses in configuration order, keyed by "name address". */
    private final Map<String, Bound> listeners = new LinkedHashMap<>();
    private final AtomicReference<SessionServices> services = new AtomicReference<>();
    private MetricsEndpoint metricsEndpoint;
    private final PrometheusMeterRegistry meterRegistry;
    private final GatewayMetrics metrics;
    /** The TLS in force per listener name (for the certificate-expiry gauge). */
    private final Map<String, LegTls> legTls = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean closed;
    /** The listeners by "name address", replaced after start and each reload (read by /ready). */
    private volatile Map<String, ControlListener> boundNow = Map.of();
    /** Why each listener is one socket handing sessions to the loops, not one socket per loop; empty if it is not. */
    private final Optional<String> notPerLoop;
    /** The running maintenance drain's two timers (end of admission, drain timeout); null when none runs. */
    private List<io.netty.util.concurrent.ScheduledFuture<?>> drainTimers;
    /** Not the gateway's lock: a drain request must not wait for a stop's grace period. */
    private final Object drainLock = new Object();

    private Gateway(Settings settings, Firewall firewall) throws IOException, FirewallException, InterruptedException {
        this.settings = settings;
        this.transport = Transport.detect();
        meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two of ProcessorMetrics' meters break Prometheus' naming rules (promtool check metrics:
        // process_cpu_time_ns_total, system_cpu_count); process_cpu_usage and system_cpu_usage stay.
        meterRegistry.config().meterFilter(MeterFilter.deny(
                id -> id.getName().equals("process.cpu.time") || id.getName().equals("system.cpu.count")));
        new JvmMemoryMetrics().bindTo(meterRegistry);
        new JvmGcMetrics().bindTo(meterRegistry);
        new JvmThreadMetrics().bindTo(meterRegistry);
        new ClassLoaderMetrics().bindTo(meterRegistry);
        new ProcessorMetrics().bindTo(meterRegistry);
        new UptimeMetrics().bindTo(meterRegistry);
        new FileDescriptorMetrics().bindTo(meterRegistry);
        metrics = new MicrometerMetrics(meterRegistry, Main.version(), settings.instanceName());

        leases = new LeaseExecutor(firewall, metrics::firewallLeaseFault);
        registry = new SessionRegistry(settings.control().maxSessions());
        group = new MultiThreadIoEventLoopGroup(settings.control().eventLoopThreads(), transport.ioHandlerFactory());
        notPerLoop = ControlListener.whyNotPerLoop(transport);
        notPerLoop.ifPresent(why -> log.warn("control listeners: one socket each, sessions handed to the event loops in "
                + "turn (one socket per event loop needs SO_REUSEPORT: {})", why));
        resolvers = HostLookup.resolvers(settings.control(), transport);
        MetricsEndpoint endpoint = null;
        try {
            int orphans = leases.start();
            metrics.firewallOrphansRemoved(orphans);
            if (orphans > 0) {
                log.warn("firewall: removed {} lease(s) left by an earlier run", orphans);
            }
            metrics.leasesActive(leases::activeLeases);
            metrics.sessionsActive(registry::size);
            metrics.sessionsLimit(registry::maxSessions);
            metrics.draining(registry::isDraining);
            if (hasTransparent(settings) && !transport.name().equals("epoll")) {
                throw new IOException("transparent listeners need the native epoll transport (IP_TRANSPARENT), "
                        + "which is not available here");
            }
            Optional<Interception> interception = interception(settings);
            if (interception.isPresent() && settings.transparent().manageFirewall()) {
                leases.intercept(interception.get());
                log.info("firewall: intercepting tcp ports {} to the transparent listener on port {}",
                        interception.get().ports(), interception.get().onPort());
            }
            boolean kernelPath = prepareKernelPath(settings);
            SessionServices first = SessionServices.create(settings, transport, leases, metrics, registry, ownAddresses(),
                    kernelPath, group, resolvers, UpstreamDialer.NETTY);
            services.set(first);
            metrics.dataPorts(() -> services.get().ports().inUse(), first.ports().size());
            Map<String, LegTls> tls = loadTls(settings);
            for (Settings.Listener l : settings.listeners()) {
                for (Endpoint e : l.listen()) {
                    listeners.put(key(l, e), bind(l, e, first, tls.get(l.name())));
                }
            }
            useTls(tls);
            publishListeners();
            if (settings.metrics().listen().isPresent()) {
                endpoint = new MetricsEndpoint(meterRegistry, settings.metrics().listen().get().toSocketAddress(),
                        settings.metrics().path(), probes(), drainSwitch());
            }
        } catch (IOException | FirewallException | InterruptedException | RuntimeException e) {
            if (endpoint != null) {
                endpoint.close();
            }
            shutdownQuietly();
            throw e;
        }
        metricsEndpoint = endpoint;
        firewallCheck = checkFirewallObjects(settings.firewall());
        if (!transport.canInlineUrgentData()) {
            log.warn("transport {} cannot read TCP urgent data in line (SO_OOBINLINE): an ABOR sent as urgent data"
                    + " (Python's ftplib) loses its last byte", transport.name());
        }
        if (settings.data().relay() == Settings.Relay.SPLICE && !transport.canSplice()) {
            log.warn("data.relay = splice needs the native epoll transport, which is not available here: "
                    + "data connections are relayed by copying");
        }
        log.info("ftpgate ready: {} listener(s) on {}, firewall {}, transport {} with {} event loop(s), data relay {}, metrics {}",
                settings.listeners().size(), boundAddresses().stream().map(NetUtil::toSocketAddressString).toList(),
                firewall.name(), transport.name(), settings.control().eventLoopThreads(),
                settings.data().relay() == Settings.Relay.SPLICE && transport.canSplice() ? "splice" : "copy",
                endpoint == null ? "off" : "http://" + new Endpoint(endpoint.address().getAddress().getHostAddress(),
                        endpoint.address().getPort()) + settings.metrics().path());
    }

    /**
     * Every {@code firewall.check-interval}, on the firewall thread between lease changes: puts
     * back the firewall's own objects that a reload of the admin's firewall removed, with a
     * warning and a count; while that fails, /ready says the firewall is not usable.
     */
    private ScheduledFuture<?> checkFirewallObjects(Settings.Firewall f) {
        Duration every = f.checkInterval();
        if (f.backend() == Settings.Backend.NONE || every.isZero()) {
            return null;
        }
        AtomicBoolean failing = new AtomicBoolean();
        return group.next().scheduleWithFixedDelay(() -> leases.restoreMissing().whenComplete((restored, failure) -> {
            if (failure != null) {
                if (!failing.getAndSet(true)) {
                    log.error("firewall: ftpgate's objects are not all in place and cannot be put back: {}",
                            failure.getMessage());
                }
                return;
            }
            if (failing.getAndSet(false)) {
                log.info("firewall: ftpgate's objects are in place again");
            }
            if (!restored.isEmpty()) {
                log.warn("firewall: put back {} (removed by a reload of the ruleset?)", String.join(", ", restored));
                restored.forEach(what -> metrics.firewallObjectRestored(what.substring(0, what.indexOf(' '))));
            }
        }), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts a gateway; on failure nothing is left bound and the firewall objects are removed. */
    public static Gateway start(Settings settings) throws IOException, FirewallException, InterruptedException {
        return new Gateway(settings, firewallFor(settings));
    }

    /** Starts a gateway with the given firewall backend instead of the configured one (tests). */
    public static Gateway start(Settings settings, Firewall firewall) throws IOException, FirewallException, InterruptedException {
        return new Gateway(settings, firewall);
    }

    static Firewall firewallFor(Settings settings) {
        return firewallFor(settings.firewall(), settings.data().connectTimeout());
    }

    /**
     * @param dataConnectTimeout how long a lease waits for its connection; an ipset entry or nft
     *     element lives that long and {@link IpsetFirewall#ENTRY_MARGIN} more
     */
    static Firewall firewallFor(Settings.Firewall f, Duration dataConnectTimeout) {
        return switch (f.backend()) {
            case NONE -> new NoFirewall();
            case IPTABLES -> new IptablesFirewall(f.chainPrefix(), f.commandPrefix(), f.iptables(), f.ip6tables(),
                    f.commandTimeout(), f.guardOutput());
            case IPSET -> new IpsetFirewall(f.chainPrefix(), f.commandPrefix(), f.iptables(), f.ip6tables(), f.ipset(),
                    "ip", f.commandTimeout(), f.guardOutput(), dataConnectTimeout.plus(IpsetFirewall.ENTRY_MARGIN));
            case NFTABLES -> new NftFirewall(new NftRules(f.nftables().table(), f.nftables().priority(),
                    f.nftables().mark(), f.guardOutput()), f.nftables().hookChains(), f.nftables().manageHookRules(),
                    f.commandPrefix(), f.nftables().nft(), f.commandTimeout(),
                    dataConnectTimeout.plus(NftFirewall.ENTRY_MARGIN));
        };
    }

    /**
     * With {@code data.path = kernel}, prepares the firewall's kernel path; if the backend cannot,
     * says so once and every data connection is relayed.
     */
    private boolean prepareKernelPath(Settings s) {
        if (s.data().path() != Settings.DataPath.KERNEL) {
            return false;
        }
        Settings.PortRange range = s.data().portRange();
        try {
            leases.prepareForwarding(range.first(), range.last());
        } catch (FirewallException e) {
            log.warn("data.path = kernel, but the kernel path is unavailable, so data connections are relayed: {}",
                    e.getMessage());
            return false;
        }
        log.info("data path: kernel for data connections that need no conversion (ports {}), relay otherwise",
                range);
        for (java.nio.file.Path off : KernelPath.forwardingOff()) {
            log.warn("data.path = kernel, but {} is not 1: data connections of that family are relayed until it is", off);
        }
        return true;
    }

    /** One bound listener address and the initializer that routes its new sessions. */
    private record Bound(ControlListener listener, ClientLegInitializer initializer) {}

    private static String key(Settings.Listener l, Endpoint e) {
        return l.name() + " " + e;
    }

    private static boolean hasTransparent(Settings s) {
        return s.listeners().stream().anyMatch(l -> l.mode() == Settings.Mode.TRANSPARENT);
    }

    /** The interception a transparent listener needs: its port receives what TPROXY diverts. */
    static Optional<Interception> interception(Settings s) {
        return s.listeners().stream().filter(l -> l.mode() == Settings.Mode.TRANSPARENT).findFirst().map(l -> {
            Settings.Transparent t = s.transparent();
            return new Interception(t.mark(), t.routingTable(), t.interfaces(), t.clientNetworks(), t.ports(),
                    l.listen().get(0).port());
        });
    }

    /** The gateway's own addresses: never a destination of a transparent or forward session. */
    private static Set<InetAddress> ownAddresses() throws IOException {
        Set<InetAddress> own = new HashSet<>();
        for (NetworkInterface i : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(i.getInetAddresses())) {
                own.add(Addresses.unmap(a));
            }
        }
        return own;
    }

    /**
     * Loads a listener's TLS: the gateway's certificate for the client leg, the trust for the
     * server leg. A certificate that cannot be read or does not match its key is refused with the
     * file's name (at start: ftpgate does not start; on reload: the running settings stay).
     */
    static LegTls loadTls(Settings.Listener l) throws IOException {
        try {
            ServerTls server = l.tls().mode() == Settings.TlsMode.OFF ? null : ServerTls.load(l.tls());
            ClientTls client = l.upstreamTls().mode() == Settings.UpstreamTlsMode.OFF ? null : ClientTls.create(l.upstreamTls());
            if (server != null) {
                log.info("listener {}: client leg {} FTPS, certificate {}", l.name(), l.tls().mode().name().toLowerCase(),
                        server.material().describe(java.time.Instant.now()));
            }
            return new LegTls(l.tls(), server, l.upstreamTls(), client);
        } catch (TlsMaterialException e) {
            throw new IOException("listener " + l.name() + ": " + e.getMessage(), e);
        }
    }

    /** Every listener's TLS, loaded before anything changes. */
    private static Map<String, LegTls> loadTls(Settings s) throws IOException {
        Map<String, LegTls> m = new LinkedHashMap<>();
        for (Settings.Listener l : s.listeners()) {
            m.put(l.name(), loadTls(l));
        }
        return m;
    }

    /** Puts loaded TLS in force for new sessions; the certificate-expiry gauge follows it. */
    private void useTls(Map<String, LegTls> loaded) {
        loaded.forEach((name, t) -> {
            if (t.server() == null) {
                legTls.remove(name);
            } else if (legTls.put(name, t) == null) {
                metrics.tlsCertificateNotAfter(name, () -> {
                    LegTls now = legTls.get(name);
                    return now == null || now.server() == null ? 0 : now.server().material().notAfter().getEpochSecond();
                });
            }
        });
        legTls.keySet().retainAll(loaded.keySet());
    }

    private Bound bind(Settings.Listener l, Endpoint e, SessionServices services, LegTls tls)
            throws IOException, InterruptedException {
        ClientLegInitializer initializer = new ClientLegInitializer(l.name(), l.mode(), l.upstream(), services, tls,
                l.proxyProtocol());
        ControlListener listener;
        try {
            listener = ControlListener.bind(e.toSocketAddress(), group, transport, notPerLoop.isEmpty(),
                    l.mode() == Settings.Mode.TRANSPARENT, initializer);
        } catch (IOException failed) {
            throw new IOException("listener " + l.name() + ": cannot listen on " + e + ": " + failed.getMessage(), failed);
        }
        log.info("listener {}: {} -> {}; {}", l.name(), e, l.mode() == Settings.Mode.EXPLICIT ? l.upstream()
                : l.mode().name().toLowerCase() + " (destinations " + services.settings().destinations().allow() + ")",
                listener.describe());
        return new Bound(listener, initializer);
    }

    /**
     * A control listener's bootstrap with listener and sessions on {@code group}: one event loop
     * (a socket per loop), or the gateway's group (one socket handing sessions to its loops).
     */
    public static ServerBootstrap controlListener(EventLoopGroup group, Transport transport, ClientLegInitializer initializer) {
        return ControlListener.bootstrap(group, transport, initializer, false);
    }

    private void publishListeners() {
        Map<String, ControlListener> m = new LinkedHashMap<>();
        listeners.forEach((k, b) -> m.put(k, b.listener()));
        boundNow = Collections.unmodifiableMap(m);
    }

    private DrainSwitch drainSwitch() {
        return new DrainSwitch() {
            @Override
            public String drain() {
                return Gateway.this.drain();
            }

            @Override
            public String undrain() {
                return Gateway.this.undrain();
            }
        };
    }

    /**
     * Starts a drain that does not stop the gateway (SIGUSR1, POST /drain): /ready answers 503 at
     * once, new sessions are admitted for {@code drain.lb-grace} and refused with 421 after it,
     * running sessions go on until they end or {@code drain.timeout} passes, when the ones left get
     * 421. A second call while draining changes nothing. Returns one line saying what happened.
     */
    public String drain() {
        synchronized (drainLock) {
            return startDrain();
        }
    }

    private String startDrain() {
        if (closed) {
            return "stopping";
        }
        Settings.Drain d = settings.drain();
        if (!registry.startDrain(d.admitFor())) {
            return "already draining, " + registry.size() + " session(s) running";
        }
        log.info("draining: /ready answers 503; new sessions admitted for {} more, then refused; {} running session(s) "
                + "may go on for up to {}", d.admitFor(), registry.size(), d.timeout());
        var loop = group.next();
        drainTimers = List.of(
                loop.schedule(() -> log.info("draining: new sessions are refused from now on; {} session(s) running",
                        registry.size()), d.admitFor().toNanos(), TimeUnit.NANOSECONDS),
                loop.schedule(() -> {
                    int ended = registry.endAll("the gateway is draining (drain.timeout passed)");
                    log.info("draining: drain.timeout passed, ended {} session(s) still running", ended);
                }, d.admitFor().plus(d.timeout()).toNanos(), TimeUnit.NANOSECONDS));
        return "draining: " + registry.size() + " session(s) running";
    }

    /** Ends a drain started by {@link #drain()}: new sessions are welcome again. */
    public String undrain() {
        synchronized (drainLock) {
            return endDrain();
        }
    }

    private String endDrain() {
        if (closed) {
            return "stopping";
        }
        if (!registry.undrain()) {
            return "not draining";
        }
        drainTimers.forEach(t -> t.cancel(false));
        drainTimers = null;
        log.info("undrained: new sessions are welcome again; {} session(s) running", registry.size());
        return "undrained: " + registry.size() + " session(s) running";
    }

    /** What /health and /ready report. */
    private HealthProbes probes() {
        return new HealthProbes() {
            @Override
            public boolean alive() {
                return isHealthy();
            }

            @Override
            public Optional<String> notReady() {
                return Gateway.this.notReady();
            }
        };
    }

    /**
     * Empty when new sessions are welcome: not stopping nor draining, every listener bound, the
     * firewall usable (its thread answers within a second and the latest lease apply succeeded).
     */
    public Optional<String> notReady() {
        if (closed) {
            return Optional.of("stopping");
        }
        if (registry.isDraining()) {
            return Optional.of("draining");
        }
        for (Map.Entry<String, ControlListener> e : boundNow.entrySet()) {
            if (!e.getValue().isActive()) {
                return Optional.of("listener " + e.getKey() + " not bound");
            }
        }
        if (!leases.usable(Duration.ofSeconds(1))) {
            return Optional.of("firewall " + leases.firewallName() + " not usable");
        }
        return Optional.empty();
    }

    /** The addresses actually bound (port 0 resolved), in configuration order. */
    public synchronized List<InetSocketAddress> boundAddresses() {
        return listeners.values().stream().map(b -> b.listener().localAddress()).toList();
    }

    /**
     * Each listener's listening sockets by "name address", in configuration order: one per event
     * loop, all on the listener's address (or one, see {@link ControlListener}).
     */
    public synchronized Map<String, List<io.netty.channel.Channel>> listenerSockets() {
        Map<String, List<io.netty.channel.Channel>> m = new LinkedHashMap<>();
        listeners.forEach((k, b) -> m.put(k, b.listener().sockets()));
        return m;
    }

    /**
     * Applies new settings to sessions that start from now on; running sessions keep theirs and
     * are not interrupted. Listeners that appeared are bound first (if one cannot be, nothing
     * changes), those that disappeared stop accepting. Firewall and metrics settings need a
     * restart: a reload that changes them is refused.
     *
     * @throws IOException naming what could not be applied; the old settings stay in force
     */
    public synchronized void reload(Settings next) throws IOException, InterruptedException {
        if (closed) {
            throw new IOException("the gateway is stopping");
        }
        if (!next.firewall().equals(settings.firewall())) {
            throw new IOException("firewall settings changed: restart ftpgate to apply them");
        }
        if (!next.transparent().equals(settings.transparent()) || hasTransparent(next) != hasTransparent(settings)
                || !interception(next).equals(interception(settings))) {
            throw new IOException("transparent settings changed: restart ftpgate to apply them");
        }
        if (next.data().path() != settings.data().path()
                || (next.data().path() == Settings.DataPath.KERNEL && !next.data().portRange().equals(settings.data().portRange()))) {
            throw new IOException("data.path or, with the kernel path, data.port-range changed: restart ftpgate to apply it");
        }
        if (!next.instanceName().equals(settings.instanceName())) {
            throw new IOException("instance-name changed: restart ftpgate to apply it");
        }
        if (!next.metrics().equals(settings.metrics())) {
            throw new IOException("metrics settings changed: restart ftpgate to apply them");
        }
        for (Settings.Listener l : next.listeners()) {
            for (Endpoint e : l.listen()) {
                Bound b = listeners.get(key(l, e));
                if (b != null && b.initializer().mode() != l.mode()) {
                    throw new IOException("listener " + key(l, e) + " changed its mode: restart ftpgate to apply it");
                }
            }
        }
        Map<String, LegTls> nextTls = loadTls(next);
        SessionServices nextServices = services.get().withSettings(next);
        Map<String, Bound> added = new LinkedHashMap<>();
        Map<String, Settings.Listener> wanted = new LinkedHashMap<>();
        try {
            for (Settings.Listener l : next.listeners()) {
                for (Endpoint e : l.listen()) {
                    wanted.put(key(l, e), l);
                    if (!listeners.containsKey(key(l, e))) {
                        added.put(key(l, e), bind(l, e, nextServices, nextTls.get(l.name())));
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            added.values().forEach(b -> b.listener().close());
            throw e;
        }
        listeners.entrySet().removeIf(entry -> {
            if (wanted.containsKey(entry.getKey())) {
                return false;
            }
            log.info("listener {}: closed by reload (its running sessions continue)", entry.getKey());
            entry.getValue().listener().close();
            return true;
        });
        listeners.forEach((k, b) -> b.initializer().reroute(wanted.get(k).upstream(), nextServices,
                nextTls.get(wanted.get(k).name()), wanted.get(k).proxyProtocol()));
        Map<String, Bound> ordered = new LinkedHashMap<>();
        wanted.keySet().forEach(k -> ordered.put(k, listeners.containsKey(k) ? listeners.get(k) : added.get(k)));
        listeners.clear();
        listeners.putAll(ordered);
        publishListeners();
        registry.maxSessions(next.control().maxSessions());
        nextServices.limitTotalBandwidth(next.abuse().bandwidthTotal());
        useTls(nextTls);
        services.set(nextServices);
        settings = next;
        log.info("configuration reloaded: {} listener address(es), {} session(s) continue with their settings",
                listeners.size(), registry.size());
    }

    /** One line for systemd's STATUS=. */
    public String statusLine() {
        return registry.size() + " session(s), " + leases.activeLeases() + " lease(s), listening on "
                + boundAddresses().stream().map(NetUtil::toSocketAddressString).toList();
    }

    /** Whether every event loop runs a task within a second (for the systemd watchdog). */
    public boolean isHealthy() {
        for (io.netty.util.concurrent.EventExecutor loop : group) {
            if (!loop.submit(() -> { }).awaitUninterruptibly(1, TimeUnit.SECONDS)) {
                return false;
            }
        }
        return !group.isShuttingDown();
    }

    /** Where the metrics endpoint (with /health and /ready) listens, if it is on. */
    public Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::address);
    }

    public int activeSessions() {
        return registry.size();
    }

    public int activeLeases() {
        return leases.activeLeases();
    }

    public PrometheusMeterRegistry meterRegistry() {
        return meterRegistry;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("ftpgate stopping: no new sessions, {} running (grace {})", registry.size(), settings.shutdownGrace());
        listeners.values().forEach(b -> b.listener().close());
        try {
            int ended = registry.drain(settings.shutdownGrace());
            if (ended > 0) {
                log.info("ended {} session(s) still running after the grace period", ended);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        shutdownQuietly();
        log.info("ftpgate stopped");
    }

    private void shutdownQuietly() {
        if (firewallCheck != null) {
            firewallCheck.cancel(false);
        }
        if (services.get() != null) {
            services.get().totalBandwidth().release();
        }
        listeners.values().forEach(b -> b.listener().close());
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        try {
            leases.stop();
        } catch (FirewallException e) {
            log.error("firewall: could not remove ftpgate's objects: {}", e.getMessage());
        }
        leases.close();
        resolvers.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
