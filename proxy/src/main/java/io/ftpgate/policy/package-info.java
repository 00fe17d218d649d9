/**
 * Pure decisions about data connections: who may be connected to (RFC 2577 bounce and
 * privileged-port checks), which address a server's passive reply really means, and the one
 * {@link io.ftpgate.policy.Reason} enum that names every refusal in the FTP reply, the log line
 * and the metric alike. No I/O, no Netty.
 */
package io.ftpgate.policy;
