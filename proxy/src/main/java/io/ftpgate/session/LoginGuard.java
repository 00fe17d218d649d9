package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.policy.Reason;
import java.time.Duration;

/**
 * The session's side of {@link LoginThrottle}: counts its failed logins, and refuses USER and
 * PASS (421, then the session ends) while its client address is banned, also in the session
 * whose failure started the ban. New sessions of a banned address are refused by {@link Admission}.
 */
final class LoginGuard {
    private LoginGuard() {
    }

    static LoginThrottle.Limits limits(Settings settings) {
        Settings.LoginFailures f = settings.abuse().loginFailures();
        return new LoginThrottle.Limits(f.limit(), f.window(), f.ban(), f.maxAddresses());
    }

    /** A login ended (230 or 530); a failure may ban the client's address. */
    static void loginEnded(ControlSession s, boolean success) {
        if (success) {
            return;
        }
        LoginThrottle.Limits limits = limits(s.settings());
        if (s.services().logins().failed(s.clientAddress(), limits)) {
            s.metrics().clientBanned();
            ControlSession.log().warn("session {}: client {} banned for {} after {} failed logins within {}", s.id(),
                    s.clientAddress().getHostAddress(), limits.ban(), limits.limit(), limits.window());
        }
    }

    /** Whether USER or PASS may go to the server; if not, the client has its 421 and the session ends. */
    static boolean allows(ControlSession s) {
        Duration left = s.services().logins().bannedFor(s.clientAddress());
        if (left.isZero()) {
            return true;
        }
        s.refuse(Reason.LOGIN_BANNED, Durations.forUsers(left));
        s.end("client banned after failed logins");
        return false;
    }
}
