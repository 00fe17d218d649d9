package io.ftpgate.policy;

import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.Verbs;
import java.util.Optional;

/**
 * Which server replies may be relayed: the strict engine's rules, after RFC 959 §5.4 (the
 * command-reply sequences) and Cisco ASA's "inspect ftp strict". A reply is only ever the answer to
 * the oldest outstanding command; what it may say depends on that command.
 *
 * <ol>
 *   <li>A reply when no command is outstanding is unsolicited, unless it is 421 (RFC 959 §4.2: a
 *       server may announce at any time that it is closing).</li>
 *   <li>The codes that carry a data address or a protocol change answer exactly one command each:
 *       227 only PASV, 228 only LPSV, 229 only EPSV, 234 only AUTH. Anything else would show the
 *       client an address the server chose or start TLS where nobody asked for it.</li>
 *   <li>A preliminary reply (1xx) only answers a command that opens a data connection (RETR, STOR,
 *       STOU, APPE, LIST, NLST, MLSD), and 120 also REIN (RFC 959 §5.4). A 1xx elsewhere would make
 *       the client wait for a transfer that never comes, or take the next reply for this one.</li>
 *   <li>The greeting is 220, after any 120, or a refusal (4xx/5xx).</li>
 * </ol>
 * Everything real servers do besides stays allowed: multi-line replies, 1xx then 2xx/4xx/5xx, and
 * the 426/226 pair around ABOR (each is the final reply of its own command).
 */
public final class ReplyPolicy {
    private ReplyPolicy() {}

    /**
     * @param verb the outstanding command's verb (upper case), or null if none is outstanding
     * @return the reason {@code reply} must not be relayed, or empty
     */
    public static Optional<Reason> check(String verb, FtpReply reply) {
        int code = reply.code();
        if (code == 421) {
            return Optional.empty();
        }
        if (verb == null) {
            return Optional.of(Reason.UNSOLICITED_REPLY);
        }
        boolean ok = switch (code) {
            case 227 -> verb.equals("PASV");
            case 228 -> verb.equals("LPSV");
            case 229 -> verb.equals("EPSV");
            case 234 -> verb.equals("AUTH");
            case 120 -> verb.equals("REIN") || Verbs.isTransfer(verb);
            default -> !reply.isPreliminary() || Verbs.isTransfer(verb);
        };
        return ok ? Optional.empty() : Optional.of(Reason.UNEXPECTED_REPLY);
    }

    /** The server's first words: 120 (wait), then 220, or a refusal. */
    public static Optional<Reason> checkGreeting(FtpReply reply) {
        int code = reply.code();
        boolean ok = code == 120 || code == 220 || code >= 400;
        return ok ? Optional.empty() : Optional.of(Reason.UNEXPECTED_REPLY);
    }
}
