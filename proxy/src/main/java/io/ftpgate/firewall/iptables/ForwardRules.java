package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.ForwardLease;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Pure builders of the kernel path's iptables/ip6tables argument lists (no binary, no command
 * prefix); a golden test pins every line. ftpgate owns three more chains, named after the prefix:
 * {@code FTPGATE-DNAT} in the {@code nat} table, jumped to from the first rule of
 * {@code PREROUTING}; {@code FTPGATE-SNAT} in {@code nat}, from {@code POSTROUTING}; and
 * {@code FTPGATE-FWD} in {@code filter}, from {@code FORWARD}. A {@link ForwardLease} is four
 * rules, shown as {@code iptables -S} prints them (client 198.51.100.2, gateway 198.51.100.1 port
 * 40017, server 203.0.113.2 port 30000, gateway towards the server 203.0.113.1, session 17):
 *
 * <pre>
 * # nat: a second connection from the client finds its address in the lease's list and is not translated
 * -A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --rcheck --name FTPGATE-17-40017 --mask 255.255.255.255 --rsource -m comment --comment "ftpgate session 17" -j RETURN
 * # nat: the first one records the client's address and is sent to the server
 * -A FTPGATE-DNAT -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40017 -m recent --set --name FTPGATE-17-40017 --mask 255.255.255.255 --rsource -m comment --comment "ftpgate session 17" -j DNAT --to-destination 203.0.113.2:30000
 * # nat: the server sees the gateway
 * -A FTPGATE-SNAT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate DNAT --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment "ftpgate session 17" -j SNAT --to-source 203.0.113.1
 * # filter: the translated first packet may be forwarded
 * -A FTPGATE-FWD -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 30000 -m conntrack --ctstate NEW --ctorigdst 198.51.100.1 --ctorigdstport 40017 -m comment --comment "ftpgate session 17" -j ACCEPT
 * </pre>
 *
 * <p>The {@code nat} table sees only the first packet of a connection, so the {@code recent} list
 * (one per lease, {@code /proc/net/xt_recent/FTPGATE-17-40017}) makes the lease one-shot in the
 * kernel: once a connection was translated, any later one to the same port is not, and goes to
 * INPUT, where nothing admits it. The rest of a forwarded connection, in both directions, passes
 * one static rule, added when the kernel path is prepared (ports: {@code data.port-range}):
 *
 * <pre>
 * -A FTPGATE-FWD -m conntrack --ctstate RELATED,ESTABLISHED -m conntrack --ctstate DNAT --ctproto 6 --ctorigdstport 40000:40999 -m comment --comment "ftpgate kernel path" -j ACCEPT
 * </pre>
 *
 * It accepts only packets of connections whose original destination port is in the data port
 * range and that were destination-translated (in practice: by the rules above), with no packet
 * mark to share with other software; RELATED carries ICMP errors of those connections (path MTU).
 * IPv6 (ip6tables) is the same with {@code /128} and {@code --to-destination [2001:db8:2::2]:30000}.
 * Each call passes {@code -w 5}; revoke is the same rule with {@code -D}. A lease's four rules
 * are added, and removed, by one {@code iptables-restore -w 5 --noflush} each ({@link #restoreInput}).
 */
public final class ForwardRules {

    /** One of the kernel path's chains: its table and the built-in chain that jumps to it. */
    public enum Chain {
        DNAT("nat", "PREROUTING"), SNAT("nat", "POSTROUTING"), FWD("filter", "FORWARD");

        final String table;
        final String builtinChain;

        Chain(String table, String builtinChain) {
            this.table = table;
            this.builtinChain = builtinChain;
        }
    }

    /** The comment of the static rule; lease rules say {@code ftpgate session N}. */
    static final String STATIC_COMMENT = "ftpgate kernel path";

    private final String prefix;

    public ForwardRules(IptablesRules rules) {
        this.prefix = Objects.requireNonNull(rules, "rules").chainPrefix();
    }

    /** ftpgate's chain, e.g. {@code FTPGATE-DNAT}. */
    public String chain(Chain c) {
        return prefix + "-" + c.name();
    }

    /** The lease's rules in the order they are added: the FORWARD and SNAT rules before the translation. */
    public List<List<String>> append(ForwardLease lease) {
        return List.of(forwardRule("-A", lease), snatRule("-A", lease), oneShotRule("-A", lease), dnatRule("-A", lease));
    }

    /** The lease's rules in the order they are deleted: the translation first. */
    public List<List<String>> delete(ForwardLease lease) {
        return List.of(dnatRule("-D", lease), oneShotRule("-D", lease), snatRule("-D", lease), forwardRule("-D", lease));
    }

    /**
     * The commands as one {@code iptables-restore --noflush} batch: per table, in the order the
     * tables first appear, {@code *TABLE}, the commands' arguments after {@code -w 5 -t TABLE},
     * {@code COMMIT}. A table's part is applied all or nothing (not the whole batch).
     */
    public static String restoreInput(List<List<String>> commands) {
        java.util.Map<String, StringBuilder> tables = new java.util.LinkedHashMap<>();
        for (List<String> command : commands) {
            // Every builder here starts with -w 5 -t TABLE.
            String table = command.get(3);
            tables.computeIfAbsent(table, t -> new StringBuilder()).append(IptablesRules.commandLine(command.subList(4, command.size())))
                    .append('\n');
        }
        StringBuilder batch = new StringBuilder();
        tables.forEach((table, lines) -> batch.append('*').append(table).append('\n').append(lines).append("COMMIT\n"));
        return batch.toString();
    }

    /** The arguments of {@code iptables-restore} for such a batch: wait for the lock, keep every other rule. */
    public static List<String> restoreArguments() {
        return IptablesRules.restoreArguments();
    }

    /** The static rule for established flows of forwarded connections to ports {@code first..last}. */
    public List<String> appendStatic(int first, int last) {
        return call(Chain.FWD, "-A", chain(Chain.FWD),
                "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                "-m", "conntrack", "--ctstate", "DNAT", "--ctproto", "6", "--ctorigdstport", first + ":" + last,
                "-m", "comment", "--comment", STATIC_COMMENT, "-j", "ACCEPT");
    }

    /** The name of the lease's {@code recent} list: unique per session and port. */
    public String listName(ForwardLease lease) {
        return prefix + "-" + lease.sessionId() + "-" + lease.gatewayPort();
    }

    /** Lists one table ({@code nat} or {@code filter}) with packet counters ({@code -c PACKETS BYTES}). */
    public List<String> listTable(String table, boolean counters) {
        List<String> args = new ArrayList<>(List.of("-w", IptablesRules.LOCK_WAIT_SECONDS, "-t", table, "-S"));
        if (counters) {
            args.add("-v");
        }
        return List.copyOf(args);
    }

    public List<String> newChain(Chain c) {
        return call(c, "-N", chain(c));
    }

    public List<String> flushChain(Chain c) {
        return call(c, "-F", chain(c));
    }

    public List<String> deleteChain(Chain c) {
        return call(c, "-X", chain(c));
    }

    public List<String> insertJump(Chain c) {
        return call(c, "-I", c.builtinChain, "1", "-j", chain(c));
    }

    public List<String> deleteJump(Chain c) {
        return call(c, "-D", c.builtinChain, "-j", chain(c));
    }

    /** The jump as {@code iptables -t TABLE -S} lists it, e.g. {@code -A PREROUTING -j FTPGATE-DNAT}. */
    public String jumpLine(Chain c) {
        return "-A " + c.builtinChain + " -j " + chain(c);
    }

    public String chainLine(Chain c) {
        return "-N " + chain(c);
    }

    public String ruleLinePrefix(Chain c) {
        return "-A " + chain(c) + " ";
    }

    private List<String> oneShotRule(String op, ForwardLease lease) {
        List<String> args = toGateway(op, lease);
        args.addAll(List.of("-m", "recent", "--rcheck", "--name", listName(lease), "--rsource"));
        return finish(Chain.DNAT, args, lease, "-j", "RETURN");
    }

    private List<String> dnatRule(String op, ForwardLease lease) {
        List<String> args = toGateway(op, lease);
        args.addAll(List.of("-m", "recent", "--set", "--name", listName(lease), "--rsource"));
        String target = IptablesRules.address(lease.to());
        String to = (lease.isIpv6() ? "[" + target + "]" : target) + ":" + lease.toPort();
        return finish(Chain.DNAT, args, lease, "-j", "DNAT", "--to-destination", to);
    }

    private List<String> snatRule(String op, ForwardLease lease) {
        List<String> args = toTarget(op, Chain.SNAT, lease, "DNAT");
        return finish(Chain.SNAT, args, lease, "-j", "SNAT", "--to-source", IptablesRules.address(lease.source()));
    }

    private List<String> forwardRule(String op, ForwardLease lease) {
        List<String> args = toTarget(op, Chain.FWD, lease, "NEW");
        return finish(Chain.FWD, args, lease, "-j", "ACCEPT");
    }

    private List<String> toGateway(String op, ForwardLease lease) {
        return new ArrayList<>(List.of(op, chain(Chain.DNAT),
                "-s", host(lease.from()), "-d", host(lease.gateway()),
                "-p", "tcp", "-m", "tcp", "--dport", Integer.toString(lease.gatewayPort())));
    }

    private List<String> toTarget(String op, Chain c, ForwardLease lease, String ctstate) {
        return new ArrayList<>(List.of(op, chain(c),
                "-s", host(lease.from()), "-d", host(lease.to()),
                "-p", "tcp", "-m", "tcp", "--dport", Integer.toString(lease.toPort()),
                "-m", "conntrack", "--ctstate", ctstate, "--ctorigdst", IptablesRules.address(lease.gateway()),
                "--ctorigdstport", Integer.toString(lease.gatewayPort())));
    }

    private List<String> finish(Chain c, List<String> args, ForwardLease lease, String... target) {
        args.addAll(List.of("-m", "comment", "--comment", "ftpgate session " + lease.sessionId()));
        args.addAll(List.of(target));
        return call(c, args.toArray(String[]::new));
    }

    private static String host(InetAddress a) {
        return IptablesRules.address(a) + (a instanceof Inet6Address ? "/128" : "/32");
    }

    private static List<String> call(Chain c, String... args) {
        List<String> argv = new ArrayList<>(List.of("-w", IptablesRules.LOCK_WAIT_SECONDS, "-t", c.table));
        argv.addAll(List.of(args));
        return List.copyOf(argv);
    }
}
