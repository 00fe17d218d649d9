package io.ftpgate.protocol;

import java.util.Locale;
import java.util.Set;

/** Facts about command verbs that the session needs. */
public final class Verbs {

    /** Commands that move data over the data connection (RFC 959 §4.1.3, RFC 3659 §7 for MLSD). */
    private static final Set<String> TRANSFER = Set.of("RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD");

    /**
     * Verbs of RFC 959 and its common extensions (2228, 2389, 2428, 2640, 3659, 7151, 1639 and the
     * X-forms of 775): a bounded set, so that counting commands by verb cannot grow without limit.
     */
    private static final Set<String> KNOWN = Set.of(
            "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "QUIT", "REIN", "PORT", "PASV", "TYPE", "STRU",
            "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD",
            "MKD", "PWD", "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT", "OPTS", "EPRT",
            "EPSV", "LPRT", "LPSV", "AUTH", "PBSZ", "PROT", "CCC", "ADAT", "MIC", "CONF", "ENC", "MDTM",
            "SIZE", "MLST", "MLSD", "HOST", "LANG", "XCWD", "XCUP", "XMKD", "XRMD", "XPWD", "MFMT", "CLNT");

    private Verbs() {
    }

    /** Whether the verb is one of the standard ones (see {@link #KNOWN}). */
    public static boolean isKnown(String verb) {
        return verb != null && KNOWN.contains(verb.toUpperCase(Locale.ROOT));
    }

    public static boolean isTransfer(String verb) {
        return verb != null && TRANSFER.contains(verb.toUpperCase(Locale.ROOT));
    }
}
