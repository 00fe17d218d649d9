/**
 * The nftables backend, for hosts whose firewall is a native nftables ruleset (where an accept in
 * ftpgate's own chain would not override the admin's {@code policy drop}).
 * {@link io.ftpgate.firewall.nftables.NftRules} builds every object purely (its Javadoc and a
 * golden test show them: ftpgate's table {@code inet ftpgate} with lease sets and marking chains,
 * the one accepting rule per admin chain, the channel's lines), with
 * {@link io.ftpgate.firewall.nftables.NftInterception} (transparent interception: tproxy, the
 * diversion sets) and {@link io.ftpgate.firewall.nftables.NftForwarding} (the kernel path: DNAT
 * and SNAT maps, the kernel-filled set of used leases);
 * {@link io.ftpgate.firewall.nftables.NftListing} parses nft's listings (base chains, rule handles,
 * element counts);
 * {@link io.ftpgate.firewall.nftables.NftFirewall} decides what to run and when, helped by
 * {@link io.ftpgate.firewall.nftables.NftTproxyRouting} (the interception's ip rule and route) and
 * {@link io.ftpgate.firewall.nftables.NftKernelPath} (kernel-path leases through the channel);
 * {@link io.ftpgate.firewall.nftables.NftChannel} carries lease changes through one acknowledged
 * {@code nft -i} process. Commands run through {@code firewall.process}. Imports {@code firewall},
 * {@code firewall.process} and SLF4J.
 */
package io.ftpgate.firewall.nftables;
