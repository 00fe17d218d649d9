package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure builders of what the {@code ipset} backend runs: the kernel sets that hold the leases, the
 * lines written to the long-lived {@code ipset -exist -} process, and the few static iptables
 * rules that match the sets. A golden test pins every line.
 *
 * <p>Six sets of type {@code hash:ip,port,ip}, named after the chain prefix (at most 29
 * characters: ipset names stop at 31), each entry one lease as (peer, port, gateway-side address):
 *
 * <pre>
 * # one-shot commands (ipset binary), at start: create, idempotently; timeout 0 = entries carry their own
 * -exist create FTPGATE-in4 hash:ip,port,ip family inet timeout 0 maxelem 262144
 * -exist create FTPGATE-in6 hash:ip,port,ip family inet6 timeout 0 maxelem 262144
 * #   likewise FTPGATE-out4/-out6 (outbound leases) and FTPGATE-divert4/-divert6 (diverted inbound)
 *
 * # lines for the channel (ipset -exist -), one lease each; the entry dies by itself after its timeout
 * add FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1 timeout 15
 * add FTPGATE-in6 2001:db8:1::2,tcp:40001,2001:db8:1::1 timeout 15
 * add FTPGATE-out4 203.0.113.2,tcp:20,203.0.113.1 timeout 15      # OUTBOUND: peer, its port, our address
 * del FTPGATE-in4 198.51.100.2,tcp:40001,198.51.100.1              # -exist: a missing entry is fine
 * # a diverted INBOUND lease is two entries: FTPGATE-divert4 first, then FTPGATE-in4 (same element)
 * # after each batch, the acknowledgement: its answer on stderr marks the batch as done
 * test FTPGATE-in4 127.0.0.1,tcp:17,127.0.0.1
 *
 * # static rules (iptables / ip6tables with the -6 sets), as -S lists them:
 * -A FTPGATE-IN -p tcp -m set --match-set FTPGATE-in4 src,dst,dst -m conntrack --ctstate NEW -m comment --comment "ftpgate lease set" -j ACCEPT
 * -A FTPGATE-OUT -p tcp -m set --match-set FTPGATE-out4 dst,dst,src -m conntrack --ctstate NEW -m comment --comment "ftpgate lease set" -j ACCEPT
 * # mangle, transparent mode: mark the SYN of a diverted lease whose listener exists
 * -A FTPGATE-DIVERT -p tcp -m set --match-set FTPGATE-divert4 src,dst,dst -m socket --transparent -m comment --comment "ftpgate lease set" -j MARK --set-xmark 0x1/0x1
 * </pre>
 *
 * <p>Why {@code MARK} and not {@code TPROXY --on-port 0} for diversions: without {@code --on-ip},
 * TPROXY looks for the listener on the <em>incoming interface's</em> address, not on the packet's
 * destination, and one static rule cannot name each lease's server address. A diverted data
 * listener is bound, transparently, to exactly the lease's (server address, port) before the lease
 * is applied; {@code -m socket --transparent} finds it by the packet's own destination, the mark
 * routes the SYN to the local host (ftpgate's {@code ip rule}), and the ordinary socket lookup
 * delivers it to that listener. Without a listener the SYN is not marked and is forwarded as the
 * host's FORWARD chain decides.
 */
public final class IpsetRules {

    /** One set per kind and family. */
    public enum Kind {
        IN("in"), OUT("out"), DIVERT("divert");

        private final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }
    }

    /** The comment of every static rule; it tells them from the per-rule backend's leases. */
    static final String COMMENT = "ftpgate lease set";
    /** Entries per set at most: the whole port range, many times over. */
    static final int MAX_ELEMENTS = 262_144;
    /** Loopback on both sides: never a lease, so a test of it is a pure acknowledgement. */
    private static final String SENTINEL_ADDRESS = "127.0.0.1";
    private static final Pattern SENTINEL_ANSWER = Pattern.compile(
            "^(?:Warning: )?127\\.0\\.0\\.1,tcp:(\\d+),127\\.0\\.0\\.1 is (?:NOT )?in set \\S+\\.?$");

    private final IptablesRules rules;
    private final TproxyRules tproxy;

    public IpsetRules(IptablesRules rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.tproxy = new TproxyRules(rules);
    }

    /** The set's name, e.g. {@code FTPGATE-in4}. */
    public String set(Kind kind, boolean ipv6) {
        return rules.chainPrefix() + "-" + kind.suffix + (ipv6 ? "6" : "4");
    }

    /** Every set of ftpgate's, IPv4 and IPv6. */
    public List<String> allSets() {
        List<String> sets = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            sets.add(set(kind, false));
            sets.add(set(kind, true));
        }
        return sets;
    }

    // --- one-shot commands: arguments of the ipset binary ---

    public List<String> create(Kind kind, boolean ipv6) {
        return List.of("-exist", "create", set(kind, ipv6), "hash:ip,port,ip", "family", ipv6 ? "inet6" : "inet",
                "timeout", "0", "maxelem", Integer.toString(MAX_ELEMENTS));
    }

    /** Lists the names of every set in the namespace, one per line. */
    public List<String> listNames() {
        return List.of("list", "-name");
    }

    /** Lists the set's header, with {@code Number of entries: N}. */
    public List<String> listHeader(String set) {
        return List.of("list", "-terse", set);
    }

    public List<String> flush(String set) {
        return List.of("flush", set);
    }

    public List<String> destroy(String set) {
        return List.of("destroy", set);
    }

    /** The number of entries in the output of {@link #listHeader}; -1 if it does not say. */
    static int entries(String header) {
        Matcher m = Pattern.compile("(?m)^Number of entries: (\\d+)").matcher(header);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    // --- the channel's lines ---

    /** The lines that add the lease's entries, each living {@code seconds}; the divert entry first. */
    public List<String> addLines(DataLease lease, long seconds) {
        List<String> lines = new ArrayList<>();
        for (String set : setsOf(lease)) {
            lines.add("add " + set + " " + element(lease) + " timeout " + seconds);
        }
        return lines;
    }

    /** The lines that delete the lease's entries; the divert entry first: nothing new is diverted once the permission goes. */
    public List<String> deleteLines(DataLease lease) {
        List<String> lines = new ArrayList<>();
        for (String set : setsOf(lease)) {
            lines.add("del " + set + " " + element(lease));
        }
        return lines;
    }

    /** The acknowledgement line for batch number {@code sequence} (1 to 65535). */
    public String sentinel(int sequence) {
        return "test " + set(Kind.IN, false) + " " + SENTINEL_ADDRESS + ",tcp:" + sequence + "," + SENTINEL_ADDRESS;
    }

    /** The batch number a stderr line acknowledges, or -1 if it is not an acknowledgement. */
    static int acknowledged(String stderrLine) {
        Matcher m = SENTINEL_ANSWER.matcher(stderrLine.strip());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The entry: {@code peer,tcp:port,local}, addresses as ipset prints them. */
    static String element(DataLease lease) {
        return IptablesRules.address(lease.peer()) + ",tcp:" + lease.port() + "," + IptablesRules.address(lease.local());
    }

    private List<String> setsOf(DataLease lease) {
        boolean ipv6 = lease.isIpv6();
        if (lease.direction() == DataLease.Direction.OUTBOUND) {
            return List.of(set(Kind.OUT, ipv6));
        }
        return lease.divert() ? List.of(set(Kind.DIVERT, ipv6), set(Kind.IN, ipv6)) : List.of(set(Kind.IN, ipv6));
    }

    // --- static iptables rules ---

    /** The filter rule matching the hook's set, as {@code -A} arguments. */
    public List<String> appendFilterRule(Hook hook, boolean ipv6) {
        return filterRule("-A", hook, ipv6);
    }

    public List<String> deleteFilterRule(Hook hook, boolean ipv6) {
        return filterRule("-D", hook, ipv6);
    }

    /** The mangle rule that marks a diverted lease's SYN, in {@code <prefix>-DIVERT}, as {@code -A} arguments. */
    public List<String> appendDivertRule(boolean ipv6, int mark) {
        return divertRule("-A", ipv6, mark);
    }

    public List<String> deleteDivertRule(boolean ipv6, int mark) {
        return divertRule("-D", ipv6, mark);
    }

    /** Whether a listed rule is one of these static rules (and so not a lease of the per-rule backend). */
    public static boolean isSetRule(String line) {
        return line.contains("--comment \"" + COMMENT + "\"");
    }

    private List<String> filterRule(String operation, Hook hook, boolean ipv6) {
        boolean in = hook == Hook.IN;
        return IptablesRules.call(operation, rules.chain(hook), "-p", "tcp",
                "-m", "set", "--match-set", set(in ? Kind.IN : Kind.OUT, ipv6), in ? "src,dst,dst" : "dst,dst,src",
                "-m", "conntrack", "--ctstate", "NEW",
                "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT");
    }

    private List<String> divertRule(String operation, boolean ipv6, int mark) {
        return IptablesRules.call("-t", "mangle", operation, tproxy.divertChain(), "-p", "tcp",
                "-m", "set", "--match-set", set(Kind.DIVERT, ipv6), "src,dst,dst",
                "-m", "socket", "--transparent",
                "-m", "comment", "--comment", COMMENT, "-j", "MARK", "--set-xmark", TproxyRules.mark(mark));
    }
}
