package io.ftpgate.session;

import io.ftpgate.config.Endpoint;
import io.ftpgate.config.Settings;
import io.ftpgate.data.Transport;
import io.netty.channel.EventLoop;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Host-name look-ups of upstream servers, on the session's event loop without blocking it: Netty's
 * DNS resolver (which answers from /etc/hosts first), with a deadline (control.dns-timeout) after
 * which the name counts as unknown.
 */
public final class HostLookup {
    private HostLookup() {}

    /**
     * The gateway's resolver, one for its event loop group (each loop gets its own from it).
     * {@code control.dns-servers}, if any, replace those of /etc/resolv.conf.
     */
    public static AddressResolverGroup<InetSocketAddress> resolvers(Settings.Control control, Transport transport) {
        DnsNameResolverBuilder b = new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel())
                .queryTimeoutMillis(control.dnsTimeout().toMillis())
                .nameServerProvider(control.dnsServers().isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
                        : new SequentialDnsServerAddressStreamProvider(control.dnsServers().stream()
                                .map(Endpoint::toSocketAddress).toArray(InetSocketAddress[]::new)));
        return new DnsAddressResolverGroup(b);
    }

    /**
     * Resolves {@code host}: completes on {@code loop} with the address, or fails with an
     * {@link UnknownHostException} (no such name, or no answer within {@code timeout}).
     */
    static Future<InetSocketAddress> resolve(AddressResolverGroup<InetSocketAddress> resolvers, EventLoop loop,
                                             String host, int port, Duration timeout) {
        Promise<InetSocketAddress> result = loop.newPromise();
        Future<InetSocketAddress> lookup = resolvers.getResolver(loop).resolve(InetSocketAddress.createUnresolved(host, port));
        // Not cancelled at the deadline (Netty's address resolver then completes a cancelled promise
        // and warns); its own query timeout, the same, ends it soon after, and the result is ignored.
        ScheduledFuture<?> deadline = loop.schedule(
                () -> result.tryFailure(new UnknownHostException(host + ": no answer within " + timeout.toMillis() + " ms")),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        lookup.addListener(f -> {
            deadline.cancel(false);
            if (f.isSuccess()) {
                result.trySuccess(lookup.getNow());
            } else {
                result.tryFailure(f.cause() instanceof UnknownHostException ? f.cause()
                        : new UnknownHostException(host + ": " + LeaseHandle.rootMessage(f.cause())));
            }
        });
        return result;
    }
}
