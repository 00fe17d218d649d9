/**
 * TLS (FTPS, RFC 4217) material and contexts for both legs, built with Netty's
 * {@code SslContextBuilder} with the provider of {@code tls.provider} (the JDK's, or Netty's
 * OpenSSL provider, BoringSSL from netty-tcnative, refused at start where it cannot be loaded):
 * the gateway's certificate and key read from PEM files
 * and checked ({@link io.ftpgate.tls.TlsMaterial}); per FTP session a server context for the client
 * leg ({@link io.ftpgate.tls.ServerTls}, swapped on reload by {@link io.ftpgate.tls.ServerTlsHolder})
 * and a client context for the server leg ({@link io.ftpgate.tls.ClientTls}: verification by the
 * system trust store, a CA file, a pinned SHA-256 fingerprint, or insecurely; SNI; a client
 * certificate); how to tell a resumed handshake from a full one on either side
 * ({@link io.ftpgate.tls.ResumptionProbe}: {@link io.ftpgate.tls.FullHandshakeProbe} for the JDK,
 * {@link io.ftpgate.tls.OpenSslResumption} for OpenSSL; {@link io.ftpgate.tls.ResumptionObserver}
 * on the server leg for both); the
 * demo's self-signed certificate. No pipeline code: the session and data packages put the handlers
 * in place.
 *
 * <h2>What was verified (ftps.md §10), JDK 17.0.15, Netty 4.2.18, tcnative-boringssl 2.0.84</h2>
 * <ul>
 *   <li><b>Server leg reuse by peer hint.</b> A client handler made with
 *       {@code ctx.newHandler(alloc, serverName, controlPort)} on a data connection to another port
 *       resumes the control connection's session: against a JDK server 10/10 data connections for
 *       TLS 1.2 and 1.3, JDK and OpenSSL client provider ({@code TlsResumptionTest}); against Debian's
 *       vsftpd 3.0.3 (OpenSSL 3.0, {@code require_ssl_reuse=YES}, {@code strict_ssl_read_eof=YES})
 *       8/8 LIST/NLST/RETR with 226 in each of the four combinations, and the negative control
 *       (the data port as hint) gets vsftpd's {@code 522 SSL connection failed: session reuse
 *       required} ({@code VsftpdTlsReuseIT}). BoringSSL as client resumes TLS 1.2 by session id
 *       against vsftpd (the netty#11505 worry does not show here).</li>
 *   <li><b>JDK client + TLS 1.2 + vsftpd needs session ids, not tickets.</b> vsftpd sets its session
 *       timeout to INT_MAX, so its TLS 1.2 tickets have a lifetime of 2^31-1 s; the JDK client
 *       discards tickets living over 7 days ("Discarding NewSessionTicket with lifetime
 *       2147483647"), offers the bare session id, which OpenSSL did not cache because it issued a
 *       ticket: 522 on the first transfer. With {@code jdk.tls.client.enableSessionTicketExtension
 *       =false} (read for every new SSLContext, so settable at run time; {@link
 *       io.ftpgate.tls.ClientTls} sets it unless given) the JDK resumes by session id: 8/8.</li>
 *   <li><b>TLS 1.3 tickets.</b> JDK 17.0.15 does not have JDK-8328608 (no ticket queue: no
 *       {@code newSessionTicketCount} nor {@code SoftMemoryQueue} in its SunJSSE classes; the Debian
 *       candidate is 17.0.21.1): one ticket per (host, port), consumed by the next ClientHello. It
 *       still resumes every data connection, against vsftpd (OpenSSL sends two tickets) too, as long
 *       as each data connection reads the server's NewSessionTicket, which arrives right after the
 *       handshake. A data connection that never reads (an upload closed at once) consumes the
 *       ticket and usually brings none back, so the <em>next</em> one does a full handshake: reads
 *       T,F,T,F,F,T,T gave resumed T,T,F,T,F,F,T (JDK and OpenSSL client; timing-dependent, one run
 *       gave T,T,F,T,F,T,T). Hence the design rule: keep reading the server-leg data channel until
 *       it closes. TLS 1.2 resumes regardless.</li>
 *   <li><b>Closing.</b> Under TLS 1.3 the JDK engine does not answer a close_notify by itself
 *       (half-close); vsftpd then waits for ours and the data connection hangs. On
 *       {@code SslCloseCompletionEvent}, close the channel (which sends close_notify).</li>
 *   <li><b>Client leg, the key-manager probe (D-3).</b> {@link io.ftpgate.tls.FullHandshakeProbe}
 *       says "full" exactly for full handshakes with a JDK-provider server, TLS 1.2 and 1.3, and
 *       agrees with the client's own view on every connection. Session ids cannot tell: a resumed
 *       data session had the control session's id 10/10 times under TLS 1.2 and 0/10 under TLS
 *       1.3. Negative controls (data port as hint, a fresh client context, another server context)
 *       all show full handshakes; {@code openssl s_client -sess_in} (as curl, lftp resume) is
 *       "Reused" exactly when the probe says resumed, TLS 1.2 and 1.3. Per-FTP-session server
 *       contexts isolate: a session offered to another context is not resumed there. Building one
 *       costs about 0.05-0.1 ms. With a BoringSSL server (netty-tcnative) the probe sees every
 *       handshake as full (4/4 where {@code SSL.isSessionReused} says 3 of 4 resumed): there, ask
 *       {@code SSL.isSessionReused}.</li>
 * </ul>
 */
package io.ftpgate.tls;
