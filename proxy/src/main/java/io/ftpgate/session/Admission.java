package io.ftpgate.session;

import io.ftpgate.config.Settings;
import java.util.Optional;

/**
 * Whether a newly connected client may have a session: its address is not banned for failed
 * logins ({@link LoginThrottle}), the gateway is not draining, and none of the session limits (gateway, client address, client IPv6 /64) are reached. The limits are those
 * of the settings the session starts with, so a reload applies to new sessions only.
 */
final class Admission {
    private Admission() {
    }

    /** Registers {@code s} if it may start; otherwise says why (a 421 follows). */
    static Optional<SessionRegistry.Refusal> check(ControlSession s) {
        java.time.Duration banned = s.services().logins().bannedFor(s.clientAddress());
        if (!banned.isZero()) {
            return Optional.of(new SessionRegistry.Refusal(io.ftpgate.policy.Reason.LOGIN_BANNED, Durations.forUsers(banned)));
        }
        Settings.Abuse abuse = s.settings().abuse();
        return s.services().registry().admit(s, s.clientAddress(),
                new SessionRegistry.ClientLimits(abuse.maxSessionsPerAddress(), abuse.maxSessionsPerIpv6Prefix()));
    }
}
