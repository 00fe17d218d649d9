package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.data.PortAllocator;
import io.ftpgate.data.Transport;
import io.ftpgate.firewall.LeaseExecutor;
import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.policy.DataPolicy;
import io.ftpgate.policy.DestinationPolicy;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetAddress;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;

/** What every session of one gateway shares; all of it is safe to use from any event loop. */
public record SessionServices(
        Settings settings,
        Transport transport,
        LeaseExecutor leases,
        GatewayMetrics metrics,
        DataPolicy policy,
        PortAllocator ports,
        SessionRegistry registry,
        DestinationPolicy destinations,
        Set<InetAddress> ownAddresses,
        boolean kernelPathReady,
        LoginThrottle logins,
        GlobalTrafficShapingHandler totalBandwidth,
        AddressResolverGroup<InetSocketAddress> resolvers,
        UpstreamDialer dialer) {

    /**
     * @param ownAddresses the gateway's own addresses (never a destination)
     * @param kernelPathReady whether the firewall's kernel path was prepared at start
     * @param logins failed logins and bans per client address (kept across reloads)
     * @param totalBandwidth the gateway-wide shaper of data connections (kept across reloads; its
     *     limits, read and write, are changed in place: {@link #limitTotalBandwidth})
     * @param resolvers the gateway's non-blocking DNS resolver ({@link HostLookup#resolvers})
     * @param dialer how sessions connect to their server ({@link UpstreamDialer#NETTY})
     */
    public static SessionServices create(Settings settings, Transport transport, LeaseExecutor leases,
                                         GatewayMetrics metrics, SessionRegistry registry, Set<InetAddress> ownAddresses,
                                         boolean kernelPathReady, ScheduledExecutorService shaperTimer,
                                         AddressResolverGroup<InetSocketAddress> resolvers, UpstreamDialer dialer) {
        Settings.PortRange range = settings.data().portRange();
        return new SessionServices(settings, transport, leases, metrics,
                new DataPolicy(settings.data().trustPassiveAddress()),
                new PortAllocator(range.first(), range.last()), registry,
                new DestinationPolicy(settings.destinations(), ownAddresses), Set.copyOf(ownAddresses), kernelPathReady,
                new LoginThrottle(System::nanoTime),
                DataBandwidth.totalShaper(shaperTimer, settings.abuse().bandwidthTotal()),
                resolvers, dialer);
    }

    /**
     * The same services with new settings (reload); the port allocator is kept if its range is,
     * the shared abuse state (ban list) always.
     */
    public SessionServices withSettings(Settings next) {
        Settings.PortRange range = next.data().portRange();
        PortAllocator p = range.equals(settings.data().portRange()) ? ports : new PortAllocator(range.first(), range.last());
        return new SessionServices(next, transport, leases, metrics, new DataPolicy(next.data().trustPassiveAddress()), p,
                registry, new DestinationPolicy(next.destinations(), ownAddresses), ownAddresses, kernelPathReady, logins,
                totalBandwidth, resolvers, dialer);
    }

    /** Sets the gateway-wide limit (reload), on reads and writes alike (see {@link DataBandwidth}). */
    public void limitTotalBandwidth(long bytesPerSecond) {
        totalBandwidth.configure(bytesPerSecond, bytesPerSecond);
    }
}
