package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.AddressText;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.LeaseChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure builders of what the {@code nftables} backend gives {@code nft}: ftpgate's own table (four
 * lease sets and the chains that mark a lease's first packet), the one rule per chain of the
 * admin's ruleset that accepts marked packets, and the lines for the long-lived {@code nft -i}
 * process ({@link NftListing} reads what nft lists). A golden test pins every line. With the defaults
 * (table {@code ftpgate}, priority {@code filter - 10}, mark {@code 0x00800000}, guard-output on):
 *
 * <pre>
 * # nft list table inet ftpgate (nft -f - at start: add table, delete table, then this: a fresh copy)
 * table inet ftpgate {
 * 	set in4 {
 * 		type ipv4_addr . inet_service . ipv4_addr
 * 		size 262144
 * 		flags timeout
 * 	}
 * 	# likewise in6 (ipv6_addr . inet_service . ipv6_addr), out4 and out6 (guard-output only)
 * 	chain input {
 * 		type filter hook input priority filter - 10; policy accept;
 * 		meta mark &amp; 0x00800000 != 0x00000000 meta mark set meta mark &amp; 0xff7fffff comment "ftpgate: only a lease sets this bit"
 * 		ct state new ip saddr . tcp dport . ip daddr @in4 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
 * 		ct state new ip6 saddr . tcp dport . ip6 daddr @in6 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
 * 	}
 * 	chain output {   # guard-output only: outbound leases (peer . its port . our address)
 * 		type filter hook output priority filter - 10; policy accept;
 * 		... ct state new ip daddr . tcp dport . ip saddr @out4 meta mark set meta mark | 0x00800000 ...
 * 	}
 * }
 * # the one rule at the top of each admin chain (firewall.nftables.hook-chains), managed by ftpgate:
 * insert rule inet filter input meta mark &amp; 0x00800000 == 0x00800000 accept comment "ftpgate leases (inserted by ftpgate, table inet ftpgate)"
 * # removed at stop by its handle: delete rule inet filter input handle 7
 *
 * # lines for the channel (nft -i); a line is one transaction
 * add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s }
 * add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 1s }; delete element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 }
 * # (a revoke: the add makes the delete of an element that expired meanwhile no error)
 * # several queued changes: one line, one transaction; consecutive ones of one kind, one command per set:
 * add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s, 198.51.100.3 . 40002 . 198.51.100.1 timeout 15s }
 * # after each batch, the acknowledgement: nft's complaint about it on stderr marks the batch as done
 * list set inet ftpgate ack-1
 * </pre>
 *
 * <p>Why a mark and not an accept in ftpgate's own chain: every base chain at a hook sees the
 * packet, and an accept ends only its own chain; the admin's {@code policy drop} chain would still
 * drop it. A rule in the admin's chain cannot name ftpgate's set either (sets belong to one table).
 * So ftpgate's chain, at a lower priority than the admin's, marks exactly the first packet of a
 * leased connection (after clearing the bit on anything else, so that nothing else can carry it),
 * and the one rule in the admin's chain accepts what carries the bit.
 */
public final class NftRules {

    /** Elements per set at most: the whole port range, many times over. */
    static final int MAX_ELEMENTS = 262_144;
    /** The comment of the rules in ftpgate's chains that mark leased packets. */
    static final String SET_RULE_COMMENT = "ftpgate lease set";
    private static final Pattern ACK = Pattern.compile("^list set inet \\S+ ack-(\\d+)$");

    private final String table;
    private final int priority;
    private final long mark;
    private final boolean guardOutput;

    /**
     * @param table the name of ftpgate's table (family {@code inet})
     * @param priority of ftpgate's base chains, relative to {@code filter} (0); below the admin's chains
     * @param mark the packet mark bit(s) that tell a leased connection's first packet
     * @param guardOutput whether outbound leases get entries (the output chain and sets)
     */
    public NftRules(String table, int priority, long mark, boolean guardOutput) {
        this.table = Objects.requireNonNull(table, "table");
        if (mark <= 0 || mark > 0xffffffffL) {
            throw new IllegalArgumentException("mark must be a non-zero 32-bit mask, not " + mark);
        }
        this.priority = priority;
        this.mark = mark;
        this.guardOutput = guardOutput;
    }

    /** {@code inet ftpgate}: how commands name the table. */
    public String table() {
        return "inet " + table;
    }

    /** {@code ftpgate}: the table's name. */
    public String tableName() {
        return table;
    }

    public int priority() {
        return priority;
    }

    public boolean guardOutput() {
        return guardOutput;
    }

    /** The set's name, e.g. {@code in4}, {@code out6}. */
    public static String set(boolean outbound, boolean ipv6) {
        return (outbound ? "out" : "in") + (ipv6 ? "6" : "4");
    }

    // --- ftpgate's table ---

    /** The table as {@code nft list table} prints it without elements (and as {@code nft -f} reads it). */
    public String tableDefinition() {
        return tableDefinition(null);
    }

    /**
     * The table with, when {@code interception} is not null, the pieces of transparent interception
     * ({@link NftInterception}: the sets of diversions, the prerouting chain, the input rules).
     */
    public String tableDefinition(Interception interception) {
        return tableDefinition(interception, null, 0);
    }

    /**
     * The table with interception (when not null) and the kernel path (when {@code ports} is not
     * null: data ports {@code ports[0]}..{@code ports[1]}; {@link NftForwarding}, whose set
     * {@code used4} lives {@code seconds}).
     */
    public String tableDefinition(Interception interception, int[] ports, long seconds) {
        StringBuilder t = new StringBuilder("table ").append(table()).append(" {\n");
        List<Boolean> directions = guardOutput ? List.of(false, true) : List.of(false);
        List<String> sets = new ArrayList<>();
        for (boolean outbound : directions) {
            for (boolean ipv6 : new boolean[] {false, true}) {
                sets.add(set(outbound, ipv6));
            }
        }
        if (interception != null) {
            sets.add(NftInterception.set(false));
            sets.add(NftInterception.set(true));
        }
        for (String set : sets) {
            String type = set.endsWith("6") ? "ipv6_addr" : "ipv4_addr";
            t.append("\tset ").append(set).append(" {\n")
                    .append("\t\ttype ").append(type).append(" . inet_service . ").append(type).append('\n')
                    .append("\t\tsize ").append(MAX_ELEMENTS).append('\n')
                    .append("\t\tflags timeout\n")
                    .append("\t}\n\n");
        }
        if (ports != null) {
            t.append(NftForwarding.sets(seconds));
        }
        for (boolean outbound : directions) {
            String hook = outbound ? "output" : "input";
            t.append("\tchain ").append(hook).append(" {\n")
                    .append("\t\ttype filter hook ").append(hook).append(" priority ").append(priorityText(priority))
                    .append("; policy accept;\n")
                    .append("\t\tmeta mark & ").append(hex(mark)).append(" != 0x00000000 meta mark set meta mark & ")
                    .append(hex(~mark & 0xffffffffL)).append(" comment \"ftpgate: only a lease sets this bit\"\n");
            for (boolean ipv6 : new boolean[] {false, true}) {
                String ip = ipv6 ? "ip6" : "ip";
                String tuple = outbound
                        ? ip + " daddr . tcp dport . " + ip + " saddr"
                        : ip + " saddr . tcp dport . " + ip + " daddr";
                t.append("\t\tct state new ").append(tuple).append(" @").append(set(outbound, ipv6))
                        .append(" meta mark set meta mark | ").append(hex(mark))
                        .append(" comment \"").append(SET_RULE_COMMENT).append("\"\n");
            }
            if (!outbound && interception != null) {
                for (String rule : NftInterception.inputRules(interception, mark)) {
                    t.append("\t\t").append(rule).append('\n');
                }
            }
            t.append("\t}\n");
            if (!outbound && guardOutput) {
                t.append('\n');
            }
        }
        if (interception != null) {
            t.append('\n').append(NftInterception.preroutingChain(interception));
        }
        if (ports != null) {
            t.append('\n').append(NftForwarding.chains(priority, mark, ports[0], ports[1]));
        }
        return t.append("}\n").toString();
    }

    /** An {@code nft -f} script that replaces the table by a fresh, empty copy (creating it if missing). */
    public String replaceTable() {
        return replaceTable(null);
    }

    /** Likewise, with the interception's pieces when it is not null. */
    public String replaceTable(Interception interception) {
        return removeTable() + tableDefinition(interception);
    }

    /** Likewise, with the interception's pieces and the kernel path's when they are not null. */
    public String replaceTable(Interception interception, int[] ports, long seconds) {
        return removeTable() + tableDefinition(interception, ports, seconds);
    }

    /** The line that adds a kernel-path lease's elements (one transaction). */
    public String applyForward(ForwardLease lease, long seconds) {
        return NftForwarding.apply(table(), lease, seconds);
    }

    /** The line that removes them, idempotently. */
    public String revokeForward(ForwardLease lease) {
        return NftForwarding.revoke(table(), lease);
    }

    /** The nft arguments that succeed exactly when the lease's connection was made. */
    public List<String> forwardUsed(ForwardLease lease) {
        return NftForwarding.getUsed(table(), lease);
    }

    /** An {@code nft -f} script that removes the table if it exists (the add makes a missing one no error). */
    public String removeTable() {
        return "add table " + table() + "\ndelete table " + table() + "\n";
    }

    // --- the rule in the admin's chains ---

    /** The comment of the rule ftpgate inserts (and, at stop, removes) in the admin's chains. */
    public String managedComment() {
        return "ftpgate leases (inserted by ftpgate, table " + table() + ")";
    }

    /** The comment of the admin's own copy of the rule (management off): ftpgate never removes that one. */
    public String adminComment() {
        return "ftpgate leases (table " + table() + ")";
    }

    /** The rule, as {@code nft list} prints it, with the given comment. */
    public String hookRule(String comment) {
        return "meta mark & " + hex(mark) + " == " + hex(mark) + " accept comment \"" + comment + "\"";
    }

    /** The command that inserts the managed rule at the top of the chain. */
    public String insertHookRule(NftListing.HookChain chain) {
        return "insert rule " + chain + " " + hookRule(managedComment());
    }

    /** The command that deletes a listed rule by its handle. */
    public static String deleteRule(NftListing.ListedRule rule) {
        return "delete rule " + rule.chain() + " handle " + rule.handle();
    }

    // --- the channel's lines ---

    /** Whether the lease needs an entry: inbound always, outbound only with guard-output. */
    public boolean needsEntry(DataLease lease) {
        return lease.direction() == DataLease.Direction.INBOUND || guardOutput;
    }

    /**
     * The text of one change: an add with the entry's timeout, or an idempotent delete. A diverted
     * inbound lease is two elements, the same in {@code div4} and {@code in4}: diverted, then admitted.
     */
    public String change(LeaseChange change, long seconds) {
        DataLease lease = change.lease();
        List<String> texts = new ArrayList<>();
        for (String name : setsOf(lease)) {
            texts.add(elements(change.kind(), name, List.of(element(lease)), seconds));
        }
        return String.join("; ", texts);
    }

    /** The sets a lease has an element in: the diversion first (nothing new is diverted once it goes). */
    static List<String> setsOf(DataLease lease) {
        boolean outbound = lease.direction() == DataLease.Direction.OUTBOUND;
        String admit = set(outbound, lease.isIpv6());
        return lease.divert() && !outbound ? List.of(NftInterception.set(lease.isIpv6()), admit) : List.of(admit);
    }

    /**
     * The changes as one line: one transaction, all or nothing. Consecutive changes of one kind are
     * one command per set with all their elements ({@code add element inet ftpgate in4 { A timeout
     * 15s, B timeout 15s }}), in order of first appearance: nft parses and evaluates a command per
     * set instead of one per lease, about half the time for 64 leases. A lease applied and revoked
     * in one batch stays in that order (the kinds alternate, so the commands do too).
     */
    public String batch(List<LeaseChange> changes, long seconds) {
        List<String> texts = new ArrayList<>();
        int i = 0;
        while (i < changes.size()) {
            LeaseChange.Kind kind = changes.get(i).kind();
            java.util.Map<String, java.util.Set<String>> bySet = new java.util.LinkedHashMap<>();
            for (; i < changes.size() && changes.get(i).kind() == kind; i++) {
                DataLease lease = changes.get(i).lease();
                for (String name : setsOf(lease)) {
                    bySet.computeIfAbsent(name, n -> new java.util.LinkedHashSet<>()).add(element(lease));
                }
            }
            bySet.forEach((name, elements) -> texts.add(elements(kind, name, List.copyOf(elements), seconds)));
        }
        return String.join("; ", texts);
    }

    /** One set's command(s) for these elements: an add with their timeout, or an idempotent delete. */
    private String elements(LeaseChange.Kind kind, String name, List<String> elements, long seconds) {
        String set = "element " + table() + " " + name;
        long timeout = kind == LeaseChange.Kind.APPLY ? seconds : 1;
        String add = "add " + set + " { " + String.join(", ", elements.stream().map(e -> e + " timeout " + timeout + "s").toList())
                + " }";
        // nft 1.0.6 has no "destroy element"; in one transaction, add-then-delete never fails on a missing one.
        return kind == LeaseChange.Kind.APPLY ? add : add + "; delete " + set + " { " + String.join(", ", elements) + " }";
    }

    /** The element of a lease: {@code peer . port . local} (for an outbound lease the port is the peer's). */
    static String element(DataLease lease) {
        return AddressText.of(lease.peer()) + " . " + lease.port() + " . " + AddressText.of(lease.local());
    }

    /** The acknowledgement line for batch {@code sequence}: a set that never exists, so nft complains on stderr. */
    public String sentinel(int sequence) {
        return "list set " + table() + " ack-" + sequence;
    }

    /** The batch number whose acknowledgement this stderr line is (nft's echo of the sentinel), or -1. */
    static int acknowledged(String stderrLine) {
        Matcher m = ACK.matcher(stderrLine.strip());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * nft's complaints in the stderr lines of a batch, by the line they are about: nft prints
     * {@code Error: ...}, then the line, then a line of carets. The acknowledgement's own complaint
     * (the last {@code Error:} line) is left out; a complaint without its line goes under "".
     */
    static java.util.Map<String, String> complaints(List<String> stderrLines) {
        List<String> lines = new ArrayList<>();
        for (String line : stderrLines) {
            if (!line.isBlank() && !line.strip().matches("\\^+")) {
                lines.add(line.strip());
            }
        }
        if (!lines.isEmpty() && lines.get(lines.size() - 1).startsWith("Error:")) {
            lines.remove(lines.size() - 1);
        }
        java.util.Map<String, String> byLine = new java.util.LinkedHashMap<>();
        String error = null;
        for (String line : lines) {
            if (line.startsWith("Error:")) {
                if (error != null) {
                    byLine.merge("", error, (a, b) -> a + "; " + b);
                }
                error = line;
            } else if (error != null) {
                byLine.merge(line, error, (a, b) -> a + "; " + b);
                error = null;
            } else {
                byLine.merge("", line, (a, b) -> a + "; " + b);
            }
        }
        if (error != null) {
            byLine.merge("", error, (a, b) -> a + "; " + b);
        }
        return byLine;
    }

    // --- listings ---

    /** Parses {@code nft -a -t list ruleset}: every base chain, and every rule with the managed comment. */
    public NftListing.Ruleset ruleset(String listing) {
        return NftListing.ruleset(listing, table(), managedComment());
    }

    /** The priority as nft prints it for the inet family: {@code filter}, {@code filter - 10}. */
    static String priorityText(int priority) {
        return priority == 0 ? "filter" : "filter " + (priority < 0 ? "- " : "+ ") + Math.abs(priority);
    }

    /** Seconds as nft prints a timeout: {@code 8s}, {@code 1m}, {@code 1m5s}, {@code 1h}. */
    static String durationText(long seconds) {
        StringBuilder text = new StringBuilder();
        long[] units = {86400, 3600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (seconds >= units[i]) {
                text.append(seconds / units[i]).append(names[i]);
                seconds %= units[i];
            }
        }
        return text.length() == 0 ? "0s" : text.toString();
    }

    static String hex(long value) {
        return String.format("0x%08x", value);
    }
}
