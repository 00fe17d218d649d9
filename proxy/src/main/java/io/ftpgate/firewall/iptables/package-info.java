/**
 * The iptables/ip6tables backend and the ipset backend. {@link io.ftpgate.firewall.iptables.IptablesRules} builds every
 * argument list purely (its Javadoc and a golden test show the exact lines: one {@code -A} rule
 * per lease in ftpgate's own {@code <prefix>-IN}/{@code <prefix>-OUT} chains, jumped to once from
 * INPUT/OUTPUT); {@link io.ftpgate.firewall.iptables.TproxyRules} does the same for transparent
 * interception (mangle chains {@code <prefix>-TPROXY} and {@code <prefix>-DIVERT}, the accept rules
 * for intercepted connections, {@code ip rule} and {@code ip route}), and
 * {@link io.ftpgate.firewall.iptables.TproxyPlan} picks the ones a host still lacks;
 * {@link io.ftpgate.firewall.iptables.IptablesFirewall} decides what to run and when, with
 * {@link io.ftpgate.firewall.iptables.TproxyInterception} for the interception part;
 * {@link io.ftpgate.firewall.iptables.IpsetFirewall} keeps leases as entries of kernel sets
 * instead ({@link io.ftpgate.firewall.iptables.IpsetRules} shows the sets, lines and static rules),
 * driving the iptables backend for chains and interception, and sends every change through one
 * acknowledged {@code ipset} process ({@link io.ftpgate.firewall.iptables.IpsetChannel});
 * commands run through {@link io.ftpgate.firewall.process.CommandRunner}, the only class in
 * ftpgate that starts a process. Imports {@code firewall}, {@code firewall.process} and SLF4J.
 */
package io.ftpgate.firewall.iptables;
