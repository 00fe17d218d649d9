package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.tls.ClientTls;
import io.ftpgate.tls.ServerTls;

/**
 * A listener's TLS on both legs, as loaded at start or reload: what the client leg offers (the
 * gateway is the TLS server, {@code server} holds its certificate) and what the gateway asks of the
 * FTP server (the gateway is the TLS client, {@code client} holds its trust). Sessions take it when
 * they start and keep it.
 *
 * @param server the gateway's certificate; null when the client leg has no TLS
 * @param client the gateway's client context factory; null when the server leg has no TLS
 */
public record LegTls(Settings.ListenerTls clientLeg, ServerTls server, Settings.UpstreamTls serverLeg, ClientTls client) {

    public static final LegTls OFF = new LegTls(Settings.ListenerTls.OFF, null, Settings.UpstreamTls.OFF, null);

    boolean clientLegOn() {
        return clientLeg.mode() != Settings.TlsMode.OFF && server != null;
    }

    boolean clientLegImplicit() {
        return clientLeg.mode() == Settings.TlsMode.IMPLICIT && server != null;
    }

    boolean serverLegOn() {
        return serverLeg.mode() != Settings.UpstreamTlsMode.OFF && client != null;
    }
}
