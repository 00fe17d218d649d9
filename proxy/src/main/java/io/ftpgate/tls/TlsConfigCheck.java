package io.ftpgate.tls;

import io.ftpgate.config.Settings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code --check-config} says about TLS: for each listener with TLS its certificate, whether
 * key and chain belong together, and when it expires; for each server-leg policy in use, that its
 * CA file and client certificate can be used. The first problem is thrown, naming the file.
 */
public final class TlsConfigCheck {

    private TlsConfigCheck() {}

    /** One line per checked item, e.g. {@code listener ftps: certificate /etc/... expires ... (in 86 days)}. */
    public static List<String> check(Settings settings, Instant now) throws TlsMaterialException {
        List<String> lines = new ArrayList<>();
        for (Settings.Listener l : settings.listeners()) {
            try {
                if (l.tls().enabled()) {
                    ServerTls tls = ServerTls.load(l.tls());
                    tls.material().checkValidAt(now);
                    lines.add("listener " + l.name() + ": " + tls.material().describe(now));
                }
                Settings.UpstreamTls up = l.upstreamTls();
                if (up.mode() != Settings.UpstreamTlsMode.OFF) {
                    ClientTls.create(up);
                    String line = "listener " + l.name() + ": server leg " + name(up.mode()) + ", verified by " + name(up.verify());
                    if (up.clientCertificate().isPresent() && up.clientKey().isPresent()) {
                        TlsMaterial client = TlsMaterial.load(up.clientCertificate().get(), up.clientKey().get());
                        client.checkValidAt(now);
                        line += ", client " + client.describe(now);
                    }
                    lines.add(line);
                }
            } catch (TlsMaterialException e) {
                throw new TlsMaterialException("listener " + l.name() + ": " + e.getMessage(), e);
            }
        }
        return lines;
    }

    private static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
