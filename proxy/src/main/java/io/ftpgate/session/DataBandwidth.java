package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.netty.channel.Channel;
import io.netty.handler.traffic.ChannelTrafficShapingHandler;

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
 *       (each relayed byte is read exactly once). Its limit is changed in place on reload.</li>
 * </ul>
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
            leg.pipeline().addLast(SHAPE_SESSION,
                    new ChannelTrafficShapingHandler(0, a.bandwidthPerSession(), CHECK_INTERVAL_MS));
        }
    }
}
