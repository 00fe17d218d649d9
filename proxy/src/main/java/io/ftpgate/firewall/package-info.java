/**
 * Firewall leases: a {@link io.ftpgate.firewall.DataLease} permits exactly one data connection of
 * one session, and a {@link io.ftpgate.firewall.Firewall} backend applies and revokes it. Backends
 * block (they may start processes), so all calls go through one
 * {@link io.ftpgate.firewall.LeaseExecutor} thread, which also knows which leases are active; event
 * loops get a future and post its result back to themselves. The {@code none} backend
 * ({@link io.ftpgate.firewall.NoFirewall}) only logs. This package imports the JDK and SLF4J only;
 * the iptables backend lives in {@code firewall.iptables}.
 */
package io.ftpgate.firewall;
