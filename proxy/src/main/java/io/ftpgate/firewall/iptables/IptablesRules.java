package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.AddressText;
import io.ftpgate.firewall.DataLease;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Pure builders of the iptables/ip6tables argument lists ftpgate runs (no binary, no command
 * prefix). Nothing here starts a process; a golden test pins every line.
 *
 * <p>ftpgate owns two chains in the {@code filter} table, named after the prefix (default
 * {@code FTPGATE}): {@code FTPGATE-IN}, jumped to from the first rule of {@code INPUT}, and, only
 * when outbound data connections are guarded, {@code FTPGATE-OUT}, jumped to from {@code OUTPUT}.
 * Each lease is exactly one rule, for a new TCP connection between exactly two addresses to exactly
 * one port, tagged with the session id (shown as {@code iptables -S} prints it; as an argument list
 * the comment is one element without quotes):
 *
 * <pre>
 * # INBOUND lease (the gateway listens; peer 198.51.100.2, local 198.51.100.1, port 40001, session 17)
 * -w 5 -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
 * # OUTBOUND lease (the gateway connects to peer 203.0.113.2 port 20 from local 203.0.113.1)
 * -w 5 -A FTPGATE-OUT -s 203.0.113.1/32 -d 203.0.113.2/32 -p tcp -m tcp --dport 20 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
 * # IPv6 (ip6tables): the same with /128
 * -w 5 -A FTPGATE-IN -s 2001:db8:1::2/128 -d 2001:db8:1::1/128 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
 * # revoke: the same rule with -D instead of -A
 * -w 5 -D FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
 *
 * # chains and jumps
 * -w 5 -N FTPGATE-IN                    create
 * -w 5 -S FTPGATE-IN                    list one chain (-S alone lists the table)
 * -w 5 -F FTPGATE-IN                    flush
 * -w 5 -X FTPGATE-IN                    delete
 * -w 5 -C INPUT -j FTPGATE-IN           test the jump
 * -w 5 -I INPUT 1 -j FTPGATE-IN         add the jump (exactly once)
 * -w 5 -D INPUT -j FTPGATE-IN           remove the jump
 * </pre>
 *
 * <p>Lease changes that queue up together are made with one {@code iptables-restore -w 5 --noflush}
 * per family instead ({@link #restoreInput}): the same rules, without {@code -w 5}, as one
 * transaction of the {@code filter} table (all or nothing):
 *
 * <pre>
 * *filter
 * -A FTPGATE-IN -s 198.51.100.2/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40001 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 17" -j ACCEPT
 * -D FTPGATE-IN -s 198.51.100.3/32 -d 198.51.100.1/32 -p tcp -m tcp --dport 40002 -m conntrack --ctstate NEW -m comment --comment "ftpgate session 18" -j ACCEPT
 * COMMIT
 * </pre>
 *
 * <p>The rules accept only {@code NEW}: the rest of the connection is the host's
 * {@code ESTABLISHED} rule's business. Every call passes {@code -w 5} so that a concurrent
 * iptables user makes ftpgate wait for the xtables lock rather than fail; all flags are accepted by
 * both iptables-nft and iptables-legacy. Addresses are written as {@code iptables -S} prints them
 * (IPv6 compressed per RFC 5952, no zone), so a listed rule can be compared with the built one.
 */
public final class IptablesRules {

    /** Where a chain of ftpgate's is jumped to from. */
    public enum Hook {
        IN("INPUT"), OUT("OUTPUT");

        private final String builtinChain;

        Hook(String builtinChain) {
            this.builtinChain = builtinChain;
        }

        /** The built-in chain that jumps to ftpgate's chain: {@code INPUT} or {@code OUTPUT}. */
        public String builtinChain() {
            return builtinChain;
        }
    }

    /** Seconds every call waits for the xtables lock. */
    public static final String LOCK_WAIT_SECONDS = "5";

    // Chain names are at most 28 characters (XT_EXTENSION_MAXNAMELEN - 1); "-TPROXY" takes seven.
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,21}");

    private final String chainPrefix;

    public IptablesRules(String chainPrefix) {
        Objects.requireNonNull(chainPrefix, "chainPrefix");
        if (!PREFIX.matcher(chainPrefix).matches()) {
            throw new IllegalArgumentException("chain prefix '" + chainPrefix
                    + "' must be 1 to 21 letters, digits, '_' or '-'");
        }
        this.chainPrefix = chainPrefix;
    }

    /** ftpgate's chain for the hook, e.g. {@code FTPGATE-IN}. */
    public String chain(Hook hook) {
        return chainPrefix + "-" + hook.name();
    }

    /** The hook whose chain holds the lease's rule: inbound leases in IN, outbound in OUT. */
    public static Hook hookOf(DataLease lease) {
        return lease.direction() == DataLease.Direction.INBOUND ? Hook.IN : Hook.OUT;
    }

    /** Adds the lease's rule at the end of its chain. */
    public List<String> appendLease(DataLease lease) {
        return leaseRule("-A", lease);
    }

    /** Deletes the lease's rule (the same specification with {@code -D}). */
    public List<String> deleteLease(DataLease lease) {
        return leaseRule("-D", lease);
    }

    public List<String> newChain(Hook hook) {
        return call("-N", chain(hook));
    }

    public List<String> flushChain(Hook hook) {
        return call("-F", chain(hook));
    }

    public List<String> deleteChain(Hook hook) {
        return call("-X", chain(hook));
    }

    public List<String> listChain(Hook hook) {
        return call("-S", chain(hook));
    }

    /** Lists every rule of the {@code filter} table, ftpgate's chains and jumps included. */
    public List<String> listTable() {
        return call("-S");
    }

    public List<String> checkJump(Hook hook) {
        return call("-C", hook.builtinChain(), "-m", "conntrack", "--ctstate", "NEW", "-j", chain(hook));
    }

    /**
     * Inserts the jump as the first rule of the built-in chain, for new connections only: a lease
     * admits a connection's first packet, so the packets of established connections need not
     * walk ftpgate's chain (with 10,000 live leases of the iptables backend, that walk cost
     * 85% of a download's throughput).
     */
    public List<String> insertJump(Hook hook) {
        return call("-I", hook.builtinChain(), "1", "-m", "conntrack", "--ctstate", "NEW", "-j", chain(hook));
    }

    /** Deletes one jump (the first, if an earlier crash left several). */
    public List<String> deleteJump(Hook hook) {
        return call("-D", hook.builtinChain(), "-m", "conntrack", "--ctstate", "NEW", "-j", chain(hook));
    }

    /** The jump as {@code iptables -S} lists it, e.g. {@code -A INPUT -m conntrack --ctstate NEW -j FTPGATE-IN}. */
    public String jumpLine(Hook hook) {
        return "-A " + hook.builtinChain() + " -m conntrack --ctstate NEW -j " + chain(hook);
    }

    /** The jump of releases before 2026-12 (every packet), which start and stop remove: {@code -A INPUT -j FTPGATE-IN}. */
    public String oldJumpLine(Hook hook) {
        return "-A " + hook.builtinChain() + " -j " + chain(hook);
    }

    /** Deletes one jump of releases before 2026-12. */
    public List<String> deleteOldJump(Hook hook) {
        return call("-D", hook.builtinChain(), "-j", chain(hook));
    }

    /** The chain's declaration as {@code iptables -S} lists it, e.g. {@code -N FTPGATE-IN}. */
    public String chainLine(Hook hook) {
        return "-N " + chain(hook);
    }

    /** The start of every rule {@code iptables -S} lists in the chain: {@code -A FTPGATE-IN }. */
    public String ruleLinePrefix(Hook hook) {
        return "-A " + chain(hook) + " ";
    }

    /**
     * The lease's rule as {@code iptables -S} prints it: the {@code -A} arguments without
     * {@code -w 5}, the comment quoted.
     */
    public String listedLine(DataLease lease) {
        List<String> args = appendLease(lease);
        return commandLine(args.subList(2, args.size()));
    }

    /**
     * Joins arguments for logs and error messages; an argument containing a space is quoted, as
     * {@code iptables -S} quotes the comment.
     */
    public static String commandLine(List<String> argv) {
        return io.ftpgate.firewall.process.CommandRunner.commandLine(argv);
    }

    /** The address as iptables prints it: dotted IPv4, RFC 5952 IPv6, without a zone. */
    static String address(InetAddress address) {
        return AddressText.of(address);
    }

    private List<String> leaseRule(String operation, DataLease lease) {
        String hostBits = lease.isIpv6() ? "/128" : "/32";
        String source = lease.direction() == DataLease.Direction.INBOUND ? address(lease.peer()) : address(lease.local());
        String destination = lease.direction() == DataLease.Direction.INBOUND ? address(lease.local()) : address(lease.peer());
        return call(operation, chain(hookOf(lease)),
                "-s", source + hostBits,
                "-d", destination + hostBits,
                "-p", "tcp", "-m", "tcp", "--dport", Integer.toString(lease.port()),
                "-m", "conntrack", "--ctstate", "NEW",
                "-m", "comment", "--comment", "ftpgate session " + lease.sessionId(),
                "-j", "ACCEPT");
    }

    /**
     * Lease commands ({@link #appendLease}, {@link #deleteLease}) as one {@code iptables-restore
     * --noflush} batch of the {@code filter} table, in order; {@code iptables-restore} applies it as
     * one transaction.
     */
    public static String restoreInput(List<List<String>> commands) {
        StringBuilder batch = new StringBuilder("*filter\n");
        for (List<String> command : commands) {
            // Every lease command starts with -w 5, which iptables-restore takes as its own argument.
            batch.append(commandLine(command.subList(2, command.size()))).append('\n');
        }
        return batch.append("COMMIT\n").toString();
    }

    /** The arguments of {@code iptables-restore} for a batch: wait for the lock, keep every other rule. */
    public static List<String> restoreArguments() {
        return List.of("-w", LOCK_WAIT_SECONDS, "--noflush");
    }

    /** The restore binary of a family's binary: {@code iptables-restore}, {@code ip6tables-legacy-restore}. */
    public static String restoreBinary(String binary) {
        return binary + "-restore";
    }

    /** The prefix that names ftpgate's chains, e.g. {@code FTPGATE}. */
    public String chainPrefix() {
        return chainPrefix;
    }

    static List<String> call(String... args) {
        List<String> argv = new ArrayList<>(args.length + 2);
        argv.add("-w");
        argv.add(LOCK_WAIT_SECONDS);
        argv.addAll(List.of(args));
        return List.copyOf(argv);
    }
}
