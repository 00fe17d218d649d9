package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.TproxyRouting;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure builders of what transparent interception (TPROXY) adds: iptables/ip6tables argument lists
 * in the {@code mangle} table and ftpgate's {@code filter} chain, and {@code ip rule}/{@code ip route}
 * argument lists (no binary, no command prefix). A golden test pins every line.
 *
 * <p>For {@code Interception(mark=0x1, routingTable=100, inInterfaces=[], sourceNetworks=[],
 * ports=[21], onPort=2121)}, as {@code iptables -t mangle -S}, {@code iptables -S} and
 * {@code ip rule show} print them:
 *
 * <pre>
 * # mangle: one chain jumped to from the first rule of PREROUTING, one for diverted data leases
 * -N FTPGATE-TPROXY
 * -N FTPGATE-DIVERT
 * -A PREROUTING -j FTPGATE-TPROXY
 * # 1. packets of the gateway's existing transparent sockets (never a bare SYN): mark, so that
 * #    they are routed to the local host although their destination is not one of its addresses
 * -A FTPGATE-TPROXY -p tcp -m socket --transparent -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m comment --comment "ftpgate intercept table 100" -j MARK --set-xmark 0x1/0x1
 * # 2. exactly the data connections leased with divert (one rule per lease, see below)
 * -A FTPGATE-TPROXY -j FTPGATE-DIVERT
 * # 3. new connections to an intercepted port: to the transparent listener on any address:2121
 * -A FTPGATE-TPROXY -p tcp -m tcp --dport 21 -m comment --comment "ftpgate intercept table 100" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
 * #    with interfaces and networks, one rule per port x interface x network of the family:
 * -A FTPGATE-TPROXY -s 198.51.100.0/24 -i eth0 -p tcp -m tcp --dport 21 -m comment --comment "ftpgate intercept table 100" -j TPROXY --on-port 2121 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
 * # an INBOUND divert lease (session 17: peer 198.51.100.2 to 203.0.113.2:40001)
 * -A FTPGATE-DIVERT -s 198.51.100.2/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 40001 -m comment --comment "ftpgate session 17" -j TPROXY --on-port 40001 --on-ip 203.0.113.2 --tproxy-mark 0x1/0x1
 *
 * # filter: the diverted SYN still carries its original destination (203.0.113.2:21), so INPUT
 * # sees a NEW connection to a foreign address; first in FTPGATE-IN, one rule per port:
 * -A FTPGATE-IN -p tcp -m tcp --dport 21 -m mark --mark 0x1/0x1 -m conntrack --ctstate NEW -m comment --comment "ftpgate intercept table 100" -j ACCEPT
 *
 * # routing (ip -4 and ip -6; ::/0 for IPv6)
 * ip -4 rule add fwmark 0x1/0x1 lookup 100
 * ip -4 route replace local 0.0.0.0/0 dev lo table 100
 * </pre>
 *
 * <p>Why this order and these matches: rule 1 skips bare SYNs because {@code -m socket} also finds
 * <em>listening</em> sockets bound to a specific address; a transparent data listener bound to
 * 203.0.113.2:40001 would otherwise receive new connections from anyone, with or without a lease.
 * A SYN therefore reaches a transparent socket only through a {@code TPROXY} rule: the lease's
 * (exact peer, address and port) or the intercepted control ports'. Replies to the gateway's own
 * transparent connections (e.g. the SYN-ACK when it connects from the server's address to the
 * client) are not bare SYNs and are marked by rule 1. No rule accepts or returns early, so the
 * host's own mangle rules after the jump still see every packet. The comment carries the routing
 * table so that {@code stop()} in a fresh process can find and remove the {@code ip rule}. The
 * filter rule matches the mark, which only ftpgate's {@code TPROXY} rules set on a SYN; diverted
 * data connections are accepted by their ordinary lease rule in {@code FTPGATE-IN} (it already
 * names the original destination).
 *
 * <p>What the gateway's sockets must do (proved by {@code IptablesInterceptionIT}): every socket
 * sets {@code IP_TRANSPARENT} (Netty epoll: {@code EpollChannelOption.IP_TRANSPARENT}; it needs
 * {@code CAP_NET_ADMIN}; it also works on IPv6 sockets) before it binds. The control listener binds
 * any address on {@code onPort}; an accepted channel's local address is the original destination
 * (the server's address and port 21). A diverted data listener binds exactly
 * {@code lease.local():lease.port()}, and must be bound <em>before</em> the lease is applied: a
 * {@code TPROXY} rule that finds no socket drops the SYN. A connection the peer must see as coming
 * from another host binds that foreign address (port 0, or 20) before connecting; its replies are
 * marked by rule 1.
 */
public final class TproxyRules {

    static final String INTERCEPT_COMMENT = "ftpgate intercept";
    private static final Pattern TABLE_IN_COMMENT = Pattern.compile("--comment \"" + INTERCEPT_COMMENT + " table (\\d+)\"");
    private static final Pattern SET_MARK = Pattern.compile("--set-xmark (0x[0-9a-f]+)/0x[0-9a-f]+");

    private final IptablesRules rules;

    public TproxyRules(IptablesRules rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
    }

    /** The mangle chain jumped to from PREROUTING, e.g. {@code FTPGATE-TPROXY}. */
    public String interceptChain() {
        return rules.chainPrefix() + "-TPROXY";
    }

    /** The mangle chain holding one rule per diverted inbound lease, e.g. {@code FTPGATE-DIVERT}. */
    public String divertChain() {
        return rules.chainPrefix() + "-DIVERT";
    }

    /** Lists the whole mangle table. */
    public List<String> listMangle() {
        return mangle("-S");
    }

    public List<String> newChain(String chain) {
        return mangle("-N", chain);
    }

    public List<String> flushChain(String chain) {
        return mangle("-F", chain);
    }

    public List<String> deleteChain(String chain) {
        return mangle("-X", chain);
    }

    public List<String> insertJump() {
        return mangle("-I", "PREROUTING", "1", "-j", interceptChain());
    }

    public List<String> deleteJump() {
        return mangle("-D", "PREROUTING", "-j", interceptChain());
    }

    /** The jump as {@code iptables -t mangle -S} lists it. */
    public String jumpLine() {
        return "-A PREROUTING -j " + interceptChain();
    }

    /** The rules of {@link #interceptChain()} for one family, each as {@code -A} arguments. */
    public List<List<String>> appendInterceptRules(Interception spec, boolean ipv6) {
        String comment = comment(spec);
        String mark = mark(spec.mark());
        List<List<String>> lines = new ArrayList<>();
        lines.add(mangle("-A", interceptChain(), "-p", "tcp", "-m", "socket", "--transparent",
                "-m", "tcp", "!", "--tcp-flags", "FIN,SYN,RST,ACK", "SYN",
                "-m", "comment", "--comment", comment, "-j", "MARK", "--set-xmark", mark));
        lines.add(mangle("-A", interceptChain(), "-j", divertChain()));
        List<String> networks = spec.sourceNetworks(ipv6, TproxyRules::canonicalNetwork);
        List<String> interfaces = spec.inInterfaces().isEmpty() ? java.util.Collections.singletonList(null)
                : spec.inInterfaces();
        for (int port : spec.ports()) {
            for (String iface : interfaces) {
                for (String network : networks) {
                    List<String> args = new ArrayList<>(List.of("-A", interceptChain()));
                    if (network != null) {
                        args.addAll(List.of("-s", network));
                    }
                    if (iface != null) {
                        args.addAll(List.of("-i", iface));
                    }
                    args.addAll(List.of("-p", "tcp", "-m", "tcp", "--dport", Integer.toString(port),
                            "-m", "comment", "--comment", comment,
                            "-j", "TPROXY", "--on-port", Integer.toString(spec.onPort()),
                            "--on-ip", ipv6 ? "::" : "0.0.0.0", "--tproxy-mark", mark));
                    lines.add(mangle(args.toArray(String[]::new)));
                }
            }
        }
        return lines;
    }

    /**
     * The {@code filter} rules that accept intercepted control connections, for {@code FTPGATE-IN},
     * each as {@code -I FTPGATE-IN n} arguments (first in the chain, in order).
     */
    public List<List<String>> insertAcceptRules(Interception spec) {
        List<List<String>> lines = new ArrayList<>();
        int position = 1;
        for (int port : spec.ports()) {
            lines.add(IptablesRules.call("-I", rules.chain(IptablesRules.Hook.IN), Integer.toString(position++),
                    "-p", "tcp", "-m", "tcp", "--dport", Integer.toString(port),
                    "-m", "mark", "--mark", mark(spec.mark()),
                    "-m", "conntrack", "--ctstate", "NEW",
                    "-m", "comment", "--comment", comment(spec), "-j", "ACCEPT"));
        }
        return lines;
    }

    /** Deletes the rule at a position (1-based) of {@code FTPGATE-IN}. */
    public List<String> deleteInRule(int position) {
        return IptablesRules.call("-D", rules.chain(IptablesRules.Hook.IN), Integer.toString(position));
    }

    /** Adds the divert lease's rule to {@link #divertChain()}. */
    public List<String> appendDivert(DataLease lease, int mark) {
        return divertRule("-A", lease, mark);
    }

    public List<String> deleteDivert(DataLease lease, int mark) {
        return divertRule("-D", lease, mark);
    }

    /** Whether a listed filter or mangle line is one of the interception's. */
    public static boolean isInterceptLine(String line) {
        return line.contains("--comment \"" + INTERCEPT_COMMENT);
    }

    /** The line as {@code iptables -S} lists it: without {@code -w 5}, {@code -t mangle}, and {@code -I CHAIN n} as {@code -A CHAIN}. */
    public static String listed(List<String> args) {
        List<String> rest = new ArrayList<>(args.subList(2, args.size()));
        if (rest.get(0).equals("-t")) {
            rest = rest.subList(2, rest.size());
        }
        if (rest.get(0).equals("-I")) {
            rest = new ArrayList<>(rest);
            rest.set(0, "-A");
            rest.remove(2);
        }
        return IptablesRules.commandLine(rest);
    }

    // --- routing (arguments of the ip binary): shared with the nftables backend, see TproxyRouting ---

    public List<String> addIpRule(int mark, int table, boolean ipv6) {
        return TproxyRouting.addIpRule(mark, table, ipv6);
    }

    public List<String> deleteIpRule(int mark, int table, boolean ipv6) {
        return TproxyRouting.deleteIpRule(mark, table, ipv6);
    }

    public List<String> listIpRules(boolean ipv6) {
        return TproxyRouting.listIpRules(ipv6);
    }

    /** Whether a line of {@code ip rule show} is the one {@link #addIpRule} adds. */
    public static boolean isIpRule(String line, int mark, int table) {
        return TproxyRouting.isIpRule(line, mark, table);
    }

    public List<String> replaceLocalRoute(int table, boolean ipv6) {
        return TproxyRouting.replaceLocalRoute(table, ipv6);
    }

    public List<String> deleteLocalRoute(int table, boolean ipv6) {
        return TproxyRouting.deleteLocalRoute(table, ipv6);
    }

    /** The routing table named in a listed intercept line's comment. */
    public static Optional<Integer> tableOf(String line) {
        Matcher m = TABLE_IN_COMMENT.matcher(line);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    /** The mark set by a listed intercept {@code MARK} line. */
    public static Optional<Integer> markOf(String line) {
        Matcher m = SET_MARK.matcher(line);
        return m.find() ? Optional.of(Integer.parseUnsignedInt(m.group(1).substring(2), 16)) : Optional.empty();
    }

    /** {@code 0x1/0x1}: the mark bits, masked by themselves so that other bits of the mark are left alone. */
    static String mark(int mark) {
        return TproxyRouting.mark(mark);
    }

    private static String comment(Interception spec) {
        return INTERCEPT_COMMENT + " table " + spec.routingTable();
    }

    /** The family's networks as iptables prints them; [null] for "any"; empty when none is of the family. */

    /** {@code 198.51.100.7/24} as iptables prints it: {@code 198.51.100.0/24}; a bare address gets /32 or /128. */
    static String canonicalNetwork(String cidr) {
        int slash = cidr.indexOf('/');
        String host = slash < 0 ? cidr : cidr.substring(0, slash);
        InetAddress address;
        try {
            address = InetAddress.getByName(host.strip());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + cidr, e);
        }
        byte[] bytes = address.getAddress();
        int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(cidr.substring(slash + 1).strip());
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("bad prefix length in " + cidr);
        }
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - 8 * i));
            bytes[i] &= (byte) (0xff00 >> keep);
        }
        try {
            return IptablesRules.address(InetAddress.getByAddress(bytes)) + "/" + bits;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> divertRule(String operation, DataLease lease, int mark) {
        String hostBits = lease.isIpv6() ? "/128" : "/32";
        return mangle(operation, divertChain(),
                "-s", IptablesRules.address(lease.peer()) + hostBits,
                "-d", IptablesRules.address(lease.local()) + hostBits,
                "-p", "tcp", "-m", "tcp", "--dport", Integer.toString(lease.port()),
                "-m", "comment", "--comment", "ftpgate session " + lease.sessionId(),
                "-j", "TPROXY", "--on-port", Integer.toString(lease.port()),
                "--on-ip", IptablesRules.address(lease.local()), "--tproxy-mark", mark(mark));
    }

    private static List<String> mangle(String... args) {
        List<String> argv = new ArrayList<>(List.of("-t", "mangle"));
        argv.addAll(List.of(args));
        return IptablesRules.call(argv.toArray(String[]::new));
    }
}
