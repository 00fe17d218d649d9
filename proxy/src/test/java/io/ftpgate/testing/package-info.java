/**
 * Reusable test fixtures. In-JVM (layer c): a gateway on loopback and a recording firewall.
 * Network namespaces (layer d): {@link io.ftpgate.testing.Topology} (three namespaces, always
 * removed), {@link io.ftpgate.testing.VsftpdServer} and, for the conformance matrix,
 * {@link io.ftpgate.testing.PureFtpdServer} and {@link io.ftpgate.testing.ProftpdServer} (unpacked
 * by {@link io.ftpgate.testing.DebianPackage}), {@link io.ftpgate.testing.FtpGateDaemon},
 * the client programs ({@link io.ftpgate.testing.Curl}, {@link io.ftpgate.testing.Lftp}), the
 * {@link io.ftpgate.testing.ControlProbe} and a view of the gateway's rules; guarded by
 * {@link io.ftpgate.testing.RootTools}.
 */
package io.ftpgate.testing;
