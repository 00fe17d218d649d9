/**
 * The FTP control language as values: a client command (verb and raw argument, RFC 959 §5.3), a
 * server reply (code and lines, with multi-line assembly per RFC 959 §4.2), the PORT/227 host-port
 * form (RFC 959 §4.1.2) and the EPRT/229 forms (RFC 2428), and typed parse errors. Pure and JDK
 * only: no Netty, no I/O, and no DNS — an address is a literal or it is refused. Wire text is held
 * as ISO-8859-1 chars so every byte, including UTF-8 paths, passes through unchanged.
 */
package io.ftpgate.protocol;
