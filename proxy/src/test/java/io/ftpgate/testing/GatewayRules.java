package io.ftpgate.testing;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reads the gateway namespace's firewall as ftpgate left it, for both IP families, whichever
 * backend made it: a lease is a rule tagged {@code ftpgate session N} (iptables backend), an
 * entry of one of ftpgate's sets, as {@code ipset save} prints it (ipset backend), or an element of
 * the sets of ftpgate's nftables table (nftables backend).
 */
public final class GatewayRules {

    public static final String CHAIN = "FTPGATE-IN";

    private final Topology topology;

    public GatewayRules(Topology topology) {
        this.topology = topology;
    }

    /** Prefix of ftpgate's set names (the chain prefix and a dash). */
    public static final String SET_PREFIX = "FTPGATE-";
    /** The comment of the ipset backend's static rules (they match the sets; no lease of their own). */
    private static final String SET_RULE_COMMENT = "--comment \"ftpgate lease set\"";

    /**
     * The {@code -A} lines of ftpgate's chain in iptables and ip6tables (none if the chain is
     * missing), except the ipset backend's static rules, then the entries of ftpgate's sets.
     */
    public List<String> leases() {
        List<String> rules = Stream.of("iptables", "ip6tables")
                .flatMap(tool -> topology.exec(topology.gateway, tool, "-w", "-S", CHAIN).stdout().lines())
                .filter(line -> line.startsWith("-A ") && !line.contains(SET_RULE_COMMENT))
                .toList();
        return Stream.of(rules.stream(), setEntries().stream(), nftElements().stream()).flatMap(s -> s).toList();
    }

    /** The nftables backend's table. */
    public static final String NFT_TABLE = "inet ftpgate";

    /**
     * The elements of the nftables backend's sets, each as {@code SET ELEMENT} the way {@code nft
     * list table inet ftpgate} prints it, e.g. {@code in4 198.51.100.2 . 40001 . 198.51.100.1
     * timeout 8s expires 7s512ms}; none where nft is not installed or the table does not exist.
     */
    public List<String> nftElements() {
        String listing = topology.exec(topology.gateway, "sh", "-c",
                "command -v nft >/dev/null || exit 0; nft list table " + NFT_TABLE + " 2>/dev/null || true")
                .orThrow().stdout();
        List<String> elements = new java.util.ArrayList<>();
        String set = null;
        StringBuilder collected = null;
        for (String line : listing.split("\n")) {
            java.util.regex.Matcher named = java.util.regex.Pattern.compile("^\\t(?:set|map) (\\S+) \\{").matcher(line);
            if (named.find()) {
                set = named.group(1);
                continue;
            }
            if (collected == null && line.contains("elements = {")) {
                collected = new StringBuilder();
                line = line.substring(line.indexOf('{') + 1);
            }
            if (collected != null) {
                int end = line.indexOf('}');
                collected.append(end >= 0 ? line.substring(0, end) : line).append(' ');
                if (end >= 0) {
                    for (String element : collected.toString().split(",")) {
                        elements.add(set + " " + element.strip().replaceAll("\\s+", " "));
                    }
                    collected = null;
                }
            }
        }
        return elements;
    }

    /**
     * The entries of ftpgate's sets as {@code ipset save} prints them, e.g. {@code add
     * FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 2}; none where ipset is not installed.
     */
    public List<String> setEntries() {
        ExecResult saved = topology.exec(topology.gateway, "sh", "-c", "command -v ipset >/dev/null || exit 0; ipset save");
        return saved.orThrow().stdout().lines().filter(line -> line.startsWith("add " + SET_PREFIX)).toList();
    }

    /** The names of ftpgate's sets that exist now. */
    public List<String> sets() {
        ExecResult names = topology.exec(topology.gateway, "sh", "-c", "command -v ipset >/dev/null || exit 0; ipset list -name");
        return names.orThrow().stdout().lines().filter(line -> line.startsWith(SET_PREFIX)).toList();
    }

    /** Waits up to 5 s for the chain to be empty: a lease is revoked asynchronously after its connection arrives. */
    public void awaitNoLeases() {
        await("no lease left in " + CHAIN).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(leases()).as("rules in %s", CHAIN).isEmpty());
    }

    /**
     * Every rule of a lease, in any table and chain, of both families: ftpgate tags each with the
     * comment {@code ftpgate session N}. For a diverted lease that is a filter and a mangle rule.
     * The entries of the ipset backend's sets and the elements of the nftables backend's count too.
     */
    public List<String> leaseRulesAnywhere() {
        List<String> rules = saved().lines().filter(line -> line.startsWith("-A ") && line.contains("ftpgate session")).toList();
        return Stream.of(rules.stream(), setEntries().stream(), nftElements().stream()).flatMap(l -> l).toList();
    }

    /** Waits up to 5 s until no lease rule is left in any table (filter and mangle), both families. */
    public void awaitNoLeasesAnywhere() {
        await("no lease rule left in any table").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(leaseRulesAnywhere()).as("lease rules (iptables-save, ip6tables-save)").isEmpty());
    }

    /** Rules of ftpgate's leases in the mangle table (diversions of data connections), both families. */
    public List<String> mangleLeases() {
        return Stream.of("iptables", "ip6tables")
                .flatMap(tool -> topology.exec(topology.gateway, tool, "-w", "-t", "mangle", "-S").stdout().lines())
                .filter(line -> line.startsWith("-A ") && line.contains("ftpgate session"))
                .toList();
    }

    /**
     * What of ftpgate's may be left in the gateway namespace: lines of {@code iptables-save} and
     * {@code ip6tables-save} (all tables) naming ftpgate (chains, comments) in any case, policy routing
     * rules that look up {@code routingTable}, and routes in that table, both families. Empty when
     * nothing is left.
     */
    public List<String> leftovers(int routingTable) {
        List<String> left = new java.util.ArrayList<>();
        saved().lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("ftpgate"))
                .forEach(l -> left.add("firewall: " + l));
        sets().forEach(set -> left.add("ipset: " + set));
        // The nftables backend: its table, and the rules it inserts into the admin's chains.
        topology.exec(topology.gateway, "sh", "-c", "command -v nft >/dev/null || exit 0; nft list ruleset")
                .orThrow().stdout().lines()
                .filter(l -> l.contains("table " + NFT_TABLE + " ") || l.contains("inserted by ftpgate"))
                .forEach(l -> left.add("nftables: " + l.strip()));
        String table = String.valueOf(routingTable);
        for (String family : List.of("-4", "-6")) {
            topology.exec(topology.gateway, "ip", family, "rule", "show").orThrow().stdout().lines()
                    .filter(l -> l.matches(".*lookup " + table + "\\b.*"))
                    .forEach(l -> left.add("ip " + family + " rule: " + l.strip()));
            topology.exec(topology.gateway, "ip", family, "route", "show", "table", table).stdout().lines()
                    .filter(l -> !l.isBlank())
                    .forEach(l -> left.add("ip " + family + " route table " + table + ": " + l.strip()));
        }
        return left;
    }

    /** {@code iptables-save} followed by {@code ip6tables-save}. */
    public String saved() {
        return topology.exec(topology.gateway, "iptables-save").orThrow().stdout()
                + topology.exec(topology.gateway, "ip6tables-save").orThrow().stdout();
    }
}
