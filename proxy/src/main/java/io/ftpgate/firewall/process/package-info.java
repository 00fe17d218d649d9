/**
 * How firewall backends run the tools they drive: {@link io.ftpgate.firewall.process.CommandRunner},
 * the only class in ftpgate that starts a process (an argument vector, no shell, both outputs
 * captured, killed at its timeout; or one long-lived process for a conversation), and
 * {@link io.ftpgate.firewall.process.Conversation}, the acknowledged batches written to one
 * long-lived interactive process ({@code ipset -exist -}, {@code nft -i}). Neutral between the
 * backends that use them ({@code firewall.iptables}, {@code firewall.nftables}); imports only
 * {@code FirewallException} and SLF4J.
 */
package io.ftpgate.firewall.process;
