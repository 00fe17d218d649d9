package io.ftpgate.session;

import io.ftpgate.policy.Reason;
import java.util.concurrent.TimeUnit;

/**
 * Commands per second of one session (abuse.commands-per-second), as a token bucket of
 * abuse.command-burst tokens. A command over the rate is delayed, not refused: it waits in the
 * session's inbox until a token is there, and once max-pipelined-commands wait, the gateway stops
 * reading from the client (TCP back-pressure). So a flood costs a bounded inbox and one timer, the
 * server never sees more than the rate, and a client that merely bursts (mirroring tools pipeline
 * hundreds of commands) is slowed instead of losing its session. Event-loop confined.
 */
final class CommandPacer {
    private final int perSecond;
    private final int burst;
    private double tokens;
    private long last;
    private boolean waiting;
    private boolean told;

    /** @param perSecond 0: no limit */
    CommandPacer(int perSecond, int burst) {
        this.perSecond = perSecond;
        this.burst = Math.max(1, burst);
        this.tokens = this.burst;
        this.last = System.nanoTime();
    }

    /**
     * Takes a token for the next command if there is one; if not, {@code resume} runs on the
     * session's loop when there is, and the command waits (counted; logged once per session).
     */
    boolean admit(ControlSession s, Runnable resume) {
        if (perSecond == 0) {
            return true;
        }
        if (waiting) {
            return false;
        }
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) * perSecond / 1e9);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        s.metrics().throttled(Reason.COMMAND_RATE);
        if (!told) {
            told = true;
            ControlSession.log().info("session {}: more than {} commands per second (burst {}): commands are delayed",
                    s.id(), perSecond, burst);
        }
        waiting = true;
        long waitNanos = (long) Math.ceil((1 - tokens) * 1e9 / perSecond);
        s.loop().schedule(() -> {
            waiting = false;
            resume.run();
        }, waitNanos, TimeUnit.NANOSECONDS);
        return false;
    }
}
