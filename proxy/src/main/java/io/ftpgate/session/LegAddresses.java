package io.ftpgate.session;

import io.ftpgate.config.Settings;
import io.ftpgate.policy.Addresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Which addresses a session's data connections use on each leg, worked out once when the server's
 * control connection is up (it depends on the listener's mode and the transparent settings, which a
 * session keeps for its life).
 *
 * @param client              the client's address (PROXY protocol: the one its header names)
 * @param clientLocal         the address the client reached (transparent: the server's)
 * @param server              the server's address
 * @param serverLocal         the gateway's address on the server's control connection
 * @param clientLegLocal      where the gateway listens and connects from on the client leg: the
 *                            address the client reached or, transparent with announce = gateway,
 *                            the gateway's own address towards the client
 * @param clientLegTransparent whether client-leg data connections use the server's address
 *                            (transparent, announce = server)
 * @param clientLegAlsoDiverted transparent with announce = gateway: the server's address as the
 *                            client sees it (a client that ignores the 227 address, curl by default,
 *                            connects there, so that connection is diverted too); null otherwise
 * @param extendedPassiveTransparent whether an EPSV data listener is transparent: a 229 names no
 *                            address, so the client connects to the address it reached (RFC 2428
 *                            §3), in transparent mode the server's whatever announce says
 * @param serverLegTransparent whether the server leg uses the client's address (preserve-client-address)
 * @param serverLegLocal      where the gateway listens and connects from on the server leg
 */
record LegAddresses(
        InetAddress client,
        InetAddress clientLocal,
        InetAddress server,
        InetAddress serverLocal,
        InetAddress clientLegLocal,
        boolean clientLegTransparent,
        InetAddress clientLegAlsoDiverted,
        boolean extendedPassiveTransparent,
        boolean serverLegTransparent,
        InetAddress serverLegLocal) {

    static LegAddresses of(Settings.Mode mode, Settings.Transparent transparent, InetSocketAddress clientRemote,
                           InetSocketAddress clientReached, InetSocketAddress serverRemote, InetSocketAddress serverLocal) {
        InetAddress client = Addresses.unmap(clientRemote.getAddress());
        InetAddress clientLocal = Addresses.unmap(clientReached.getAddress());
        InetAddress server = Addresses.unmap(serverRemote.getAddress());
        InetAddress gatewayToServer = Addresses.unmap(serverLocal.getAddress());
        boolean tproxy = mode == Settings.Mode.TRANSPARENT;
        boolean announceServer = transparent.announceServerAddress();
        boolean preserve = tproxy && transparent.preserveClientAddress();
        return new LegAddresses(
                client,
                clientLocal,
                server,
                gatewayToServer,
                tproxy && !announceServer ? LocalRoutes.sourceAddressTowards(client) : clientLocal,
                tproxy && announceServer,
                tproxy && !announceServer ? clientLocal : null,
                tproxy,
                preserve,
                preserve ? client : gatewayToServer);
    }

    /** Where the gateway listens for an EPSV data connection: the address the client reached. */
    InetAddress extendedPassiveLocal() {
        return clientLocal;
    }
}
