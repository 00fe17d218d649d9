package io.ftpgate.protocol;

import java.util.Locale;
import java.util.Set;

/** Facts about command verbs that the session needs. */
public final class Verbs {

    /** Commands that move data over the data connection (RFC 959 §4.1.3, RFC 3659 §7 for MLSD). */
    private static final Set<String> TRANSFER = Set.of("RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD");

    private Verbs() {
    }

    public static boolean isTransfer(String verb) {
        return verb != null && TRANSFER.contains(verb.toUpperCase(Locale.ROOT));
    }
}
