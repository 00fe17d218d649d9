package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;
import java.util.List;
import java.util.Locale;

/**
 * FEAT (RFC 2389) passes through without the features the gateway does not carry, so that clients
 * do not try them: AUTH/PBSZ/PROT (RFC 4217, not relayed yet).
 */
final class FeatFilter extends Exchange {
    private static final List<String> HIDDEN = List.of("AUTH", "PBSZ", "PROT", "CCC");
    private final ControlSession session;

    FeatFilter(ControlSession session) {
        this.session = session;
    }

    @Override
    void onReply(FtpReply reply) {
        if (reply.code() == 211 && reply.lines().size() > 2) {
            List<String> lines = reply.lines();
            List<String> kept = new java.util.ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String word = lines.get(i).trim().split(" ", 2)[0].toUpperCase(Locale.ROOT);
                boolean edge = i == 0 || i == lines.size() - 1;
                if (edge || !HIDDEN.contains(word)) {
                    kept.add(lines.get(i));
                }
            }
            reply = new FtpReply(reply.code(), kept);
        }
        deliver(reply);
        if (reply.isFinal()) {
            complete();
        }
    }
}
