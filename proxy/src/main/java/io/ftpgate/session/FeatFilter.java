package io.ftpgate.session;

import io.ftpgate.protocol.FtpReply;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * FEAT (RFC 2389) as the client leg offers it: the server's features without the ones each leg
 * negotiates for itself (AUTH, PBSZ, PROT, CCC: RFC 4217 §6; the server's say nothing about the
 * client leg), plus, where the listener offers TLS, the gateway's own (AUTH TLS for explicit FTPS,
 * PBSZ and PROT). IIS's "AUTH TLS;TLS-C;SSL;TLS-P;" spelling is removed with the rest.
 */
final class FeatFilter extends Exchange {
    private static final List<String> HIDDEN = List.of("AUTH", "PBSZ", "PROT", "CCC");
    private final ControlSession session;

    FeatFilter(ControlSession session) {
        this.session = session;
    }

    /** The feature lines (with their leading space) the gateway offers on the client leg. */
    static List<String> tlsFeatures(ClientLegTls tls) {
        List<String> lines = new ArrayList<>();
        if (tls.offered()) {
            if (!tls.settings().clientLegImplicit()) {
                lines.add(" AUTH TLS");
            }
            lines.add(" PBSZ");
            lines.add(" PROT");
        }
        return lines;
    }

    @Override
    void onReply(FtpReply reply) {
        if (!reply.isFinal()) {
            deliver(reply);
            return;
        }
        List<String> own = tlsFeatures(session.clientTls());
        if (reply.code() == 211 && reply.lines().size() > 2) {
            List<String> lines = reply.lines();
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String word = lines.get(i).trim().split("[ ;]", 2)[0].toUpperCase(Locale.ROOT);
                boolean edge = i == 0 || i == lines.size() - 1;
                if (i == lines.size() - 1) {
                    kept.addAll(own);
                }
                if (edge || !HIDDEN.contains(word)) {
                    kept.add(lines.get(i));
                }
            }
            reply = new FtpReply(reply.code(), kept);
        } else if (!own.isEmpty()) {
            // The server lists nothing (or has no FEAT): the client still learns the gateway's.
            List<String> lines = new ArrayList<>();
            lines.add("211-Features:");
            lines.addAll(own);
            lines.add("211 End");
            reply = new FtpReply(211, lines);
        }
        deliver(reply);
        complete();
    }
}
