package io.ftpgate.tls;

/**
 * JDK TLS system properties ftpgate needs, set (unless already given with {@code -D}) when the
 * first of {@link ServerTls} and {@link ClientTls} is loaded, before any TLS context exists: the
 * JDK reads some of them once, when it makes its first context.
 */
final class JsseProperties {

    /** See {@link ClientTls}: TLS 1.2 tickets break resumption against vsftpd. */
    static final String TLS12_TICKETS = "jdk.tls.client.enableSessionTicketExtension";
    /**
     * The client leg ignores the client's server_name (SNI): a listener has one certificate. Left
     * on, the JDK refuses the handshake of a client that sends an IPv6 literal as server name, as
     * lftp (GnuTLS) does for {@code open 2001:db8::1} ("Illegal server name ... Contains non-LDH
     * ASCII characters", alert to the client: "A TLS fatal alert has been received").
     */
    static final String SERVER_DISABLED_EXTENSIONS = "jdk.tls.server.disableExtensions";

    private JsseProperties() {
    }

    static synchronized void apply() {
        if (System.getProperty(TLS12_TICKETS) == null) {
            System.setProperty(TLS12_TICKETS, "false");
        }
        if (System.getProperty(SERVER_DISABLED_EXTENSIONS) == null) {
            System.setProperty(SERVER_DISABLED_EXTENSIONS, "server_name");
        }
    }
}
