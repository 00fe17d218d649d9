package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.netty.channel.Channel;
import io.netty.handler.traffic.ChannelTrafficShapingHandler;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Bandwidth limits on relayed data connections (abuse.bandwidth), with Netty's traffic shaping:
 * a leg that reads faster than its limit stops reading for a while, so the limit holds without
 * buffering (the relay's write-buffer back-pressure still applies).
 *
 * <ul>
 *   <li>per session: each leg of the session's data connection gets its own
 *       {@link ChannelTrafficShapingHandler}, so uploads (read from the client) and downloads (read
 *       from the server) are each held to the limit; a session has one transfer at a time;</li>
 *   <li>for the gateway: every leg of every data connection shares one
 *       {@link io.netty.handler.traffic.GlobalTrafficShapingHandler} whose read limit is the total
 *       (each relayed byte is read exactly once), and so is its write limit (each relayed byte is
 *       written exactly once). Its limits are changed in place on reload.</li>
 * </ul>
 *
 * <p><b>Reads alone cannot hold a limit</b>, so every shaper limits what is written to its leg too.
 * Stopping a leg's reads (auto-read off) does not stop every read: once the peer's FIN has arrived,
 * Netty's epoll transport reads the socket to its end whatever auto-read says (EPOLLRDHUP:
 * {@code EpollRecvByteAllocatorHandle.continueReading} in Netty 4.2.18), and that can be all the
 * rest of a file when the sender was quick and the kernel's receive buffer large (seen: 240 KiB of
 * a 400 KiB upload in one burst, the limit bypassed). Bytes read before the legs are linked are held
 * and forwarded at once, and a TLS leg's {@code SslHandler} asks for reads of its own below the
 * shaper. Whatever is read, it reaches the other peer only through that peer's leg, whose shaper
 * then queues it and lets it out at the limit (a queue of at most what the kernel had buffered,
 * and past 4 s of it the leg turns unwritable, which the relay's back-pressure obeys).
 *
 * <p>Shaping sees only bytes that pass the pipeline: a session with a limit is never spliced and
 * never takes the kernel path (see {@link KernelPath}); its bytes are copied.
 */
final class DataBandwidth {
    /** How often the shapers' counters are taken, ms (Netty's default). */
    private static final long CHECK_INTERVAL_MS = 1000;
    /** Pipeline names of the shapers on a data leg. */
    static final String SHAPE_TOTAL = "shape-total";
    static final String SHAPE_SESSION = "shape-session";

    private DataBandwidth() {
    }

    /** Whether the session's data connections are shaped (so they must be copied). */
    static boolean limits(ControlSession s) {
        Settings.Abuse a = s.settings().abuse();
        return a.bandwidthPerSession() > 0 || a.bandwidthTotal() > 0;
    }

    /** Adds the shapers to a data leg; called before the relay adds its handlers after them. */
    static void install(ControlSession s, Channel leg) {
        Settings.Abuse a = s.settings().abuse();
        if (a.bandwidthTotal() > 0) {
            leg.pipeline().addLast(SHAPE_TOTAL, s.services().totalBandwidth());
        }
        if (a.bandwidthPerSession() > 0) {
            leg.pipeline().addLast(SHAPE_SESSION, sessionShaper(a.bandwidthPerSession()));
        }
    }

    /** A leg's own shaper: what it reads and what is written to it, each at most {@code bytesPerSecond}. */
    static ChannelTrafficShapingHandler sessionShaper(long bytesPerSecond) {
        return new ChannelTrafficShapingHandler(bytesPerSecond, bytesPerSecond, CHECK_INTERVAL_MS);
    }

    /** The gateway's shared shaper: all legs' reads, and all legs' writes, each at most {@code bytesPerSecond}. */
    static GlobalTrafficShapingHandler totalShaper(ScheduledExecutorService timer, long bytesPerSecond) {
        return new GlobalTrafficShapingHandler(timer, bytesPerSecond, bytesPerSecond);
    }
}
