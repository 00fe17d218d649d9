/**
 * Control sessions: one client connection, the upstream connection opened for it on the same
 * event loop, the commands and replies between them, the data negotiation the gateway rewrites,
 * and the registry of live sessions. Session state is plain fields touched only on the session's
 * event loop; blocking work (the firewall) runs elsewhere and posts its result back.
 */
package io.ftpgate.session;
