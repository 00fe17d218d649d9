package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.Commands;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.iptables.ForwardRules.Chain;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iptables backend's kernel path: creates the chains and the static rule {@link ForwardRules}
 * describes, adds and removes the four rules of each {@link ForwardLease} (one
 * {@code iptables-restore} each way; all or nothing), reads
 * whether a lease's connection was made, and removes everything again: at {@link #purge} (start,
 * stop, {@code --cleanup-firewall}), whatever an earlier run left. Called only by
 * {@link IptablesFirewall}, on its one thread, once per address family (the binary).
 */
final class ForwardPath {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardPath.class);
    private static final Pattern COUNTERS = Pattern.compile(" -c (\\d+) (\\d+)");

    private final ForwardRules rules;
    private final Commands commands;
    private final String iptables;
    private final String ip6tables;
    private boolean preparedV4;
    private boolean preparedV6;

    ForwardPath(IptablesRules rules, Commands commands, String iptables, String ip6tables) {
        this.rules = new ForwardRules(rules);
        this.commands = Objects.requireNonNull(commands, "commands");
        this.iptables = Objects.requireNonNull(iptables, "iptables");
        this.ip6tables = Objects.requireNonNull(ip6tables, "ip6tables");
    }

    /**
     * Prepares IPv4 and, with {@code ipv6}, IPv6 (an IPv6 failure, e.g. no IPv6 NAT in this
     * kernel, is logged and leaves IPv6 leases to fail).
     */
    void prepare(int first, int last, boolean ipv6) throws FirewallException {
        prepare(iptables, first, last);
        preparedV4 = true;
        if (!ipv6) {
            LOG.warn("IPv6 kernel path disabled: ip6tables was unusable at start");
            return;
        }
        try {
            prepare(ip6tables, first, last);
            preparedV6 = true;
        } catch (FirewallException e) {
            LOG.warn("IPv6 kernel path disabled: {}", e.getMessage());
        }
    }

    /** Forgets what was prepared (the chains are gone: start, stop). */
    void forget() {
        preparedV4 = false;
        preparedV6 = false;
    }

    ForwardRules rules() {
        return rules;
    }

    /**
     * Creates the three chains and their jumps (after removing any of an earlier run) and adds the
     * static rule for data ports {@code first..last}.
     */
    private void prepare(String binary, int first, int last) throws FirewallException {
        purge(binary, null);
        for (Chain c : Chain.values()) {
            mustRun(binary, rules.newChain(c));
            mustRun(binary, rules.insertJump(c));
        }
        mustRun(binary, rules.appendStatic(first, last));
    }

    /**
     * Removes the jumps, rules and chains of the kernel path, if any.
     *
     * @param filterTable what {@code -S} lists of the filter table now, or null to list it here
     * @return how many lease rules were in them (orphans of an earlier run)
     */
    int purge(String binary, List<String> filterTable) throws FirewallException {
        int orphans = 0;
        for (String table : List.of("nat", "filter")) {
            List<String> lines;
            if (table.equals("filter") && filterTable != null) {
                lines = filterTable;
            } else {
                CommandRunner.Result listed = commands.run(binary, rules.listTable(table, false));
                if (!listed.ok()) {
                    // No nat table here (module missing): nothing of ours can be in it.
                    LOG.debug("{} -t {} unusable, nothing of the kernel path to remove: {}", binary, table, listed.failure());
                    continue;
                }
                lines = Commands.lines(listed);
            }
            for (Chain c : Chain.values()) {
                if (!c.table.equals(table)) {
                    continue;
                }
                for (String line : lines) {
                    if (line.equals(rules.jumpLine(c))) {
                        mustRun(binary, rules.deleteJump(c));
                    } else if (line.startsWith(rules.ruleLinePrefix(c)) && line.contains("\"ftpgate session ")) {
                        orphans++;
                    }
                }
                if (lines.contains(rules.chainLine(c))) {
                    mustRun(binary, rules.flushChain(c));
                    mustRun(binary, rules.deleteChain(c));
                }
            }
        }
        // Four rules make one lease.
        int leases = (orphans + 3) / 4;
        if (leases > 0) {
            LOG.info("{}: removed {} kernel-path lease rule(s) left by an earlier run", binary, orphans);
        }
        return leases;
    }

    /**
     * Adds the lease's rules with one {@code iptables-restore}; if it fails (one table's part may
     * have gone in), whatever of the lease is there is removed again.
     */
    void apply(ForwardLease lease) throws FirewallException {
        String binary = binaryFor(lease);
        CommandRunner.Result result = commands.run(restore(binary), ForwardRules.restoreArguments(),
                ForwardRules.restoreInput(rules.append(lease)));
        if (result.ok()) {
            return;
        }
        FirewallException undo = null;
        try {
            deleteOneByOne(binary, lease);
        } catch (FirewallException e) {
            undo = e;
        }
        throw FirewallException.compensated(failed(restore(binary), result), undo);
    }

    /**
     * Removes the lease's rules, the translation first, with one {@code iptables-restore}; if that
     * fails (a rule already gone fails its table's part), one by one, a rule already gone being fine.
     */
    void revoke(ForwardLease lease) throws FirewallException {
        String binary = binaryFor(lease);
        CommandRunner.Result result = commands.run(restore(binary), ForwardRules.restoreArguments(),
                ForwardRules.restoreInput(rules.delete(lease)));
        if (!result.ok()) {
            deleteOneByOne(binary, lease);
        }
    }

    private void deleteOneByOne(String binary, ForwardLease lease) throws FirewallException {
        FirewallException failure = null;
        for (List<String> args : rules.delete(lease)) {
            CommandRunner.Result result = commands.run(binary, args);
            if (result.ok() || Commands.isMissingRuleOrChain(result)) {
                continue;
            }
            if (failure == null) {
                failure = failed(binary, result);
            } else {
                failure.addSuppressed(failed(binary, result));
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static String restore(String binary) {
        return IptablesRules.restoreBinary(binary);
    }

    /** Whether the lease's translation rule has matched a packet: its connection was made. */
    boolean connected(ForwardLease lease) throws FirewallException {
        String binary = binaryFor(lease);
        String name = "--name " + rules.listName(lease) + " ";
        for (String line : Commands.lines(mustRun(binary, rules.listTable("nat", true)))) {
            if (line.startsWith(rules.ruleLinePrefix(Chain.DNAT)) && line.contains(name) && line.contains("-j DNAT")) {
                Matcher m = COUNTERS.matcher(line);
                return m.find() && Long.parseLong(m.group(1)) > 0;
            }
        }
        return false;
    }

    private String binaryFor(ForwardLease lease) throws FirewallException {
        if (lease.isIpv6() ? !preparedV6 : !preparedV4) {
            throw new FirewallException(lease + ": the " + (lease.isIpv6() ? "IPv6" : "IPv4")
                    + " kernel path is not prepared");
        }
        return lease.isIpv6() ? ip6tables : iptables;
    }

    private CommandRunner.Result mustRun(String binary, List<String> args) throws FirewallException {
        return commands.mustRun(binary, binary, args);
    }

    private static FirewallException failed(String binary, CommandRunner.Result result) {
        return Commands.failed(binary, result);
    }
}
