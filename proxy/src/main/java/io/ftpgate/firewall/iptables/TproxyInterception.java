package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.Commands;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iptables backend's interception part: installs what {@link TproxyRules} describes (through
 * {@link TproxyPlan}, so only what is missing), remembers the spec (its mark serves diverted
 * leases), and removes it all again: the remembered spec's routing and, for a fresh process after
 * a crash, every mark and routing table the listed intercept rules name. Called only by
 * {@link IptablesFirewall}, on its one thread.
 */
final class TproxyInterception {

    private static final Logger LOG = LoggerFactory.getLogger(TproxyInterception.class);

    private final IptablesRules rules;
    private final TproxyRules tproxy;
    private final TproxyPlan plan;
    private final String ip;
    private final Commands commands;
    private Interception spec;

    TproxyInterception(IptablesRules rules, String ip, Commands commands) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.tproxy = new TproxyRules(rules);
        this.plan = new TproxyPlan(rules, tproxy);
        this.ip = Objects.requireNonNull(ip, "ip");
        this.commands = Objects.requireNonNull(commands, "commands");
    }

    TproxyRules rules() {
        return tproxy;
    }

    /** The spec last installed, or null. */
    Interception spec() {
        return spec;
    }

    /**
     * Installs the spec for IPv4 and, when {@code ipv6Enabled}, for IPv6 (an IPv6 failure is logged
     * and skipped); the routing of a previous spec with another mark or table is removed.
     */
    void install(Interception wanted, String iptables, String ip6tables, boolean ipv6Enabled) throws FirewallException {
        Objects.requireNonNull(wanted, "spec");
        Interception previous = spec;
        installFamily(wanted, false, iptables);
        if (ipv6Enabled) {
            try {
                installFamily(wanted, true, ip6tables);
            } catch (FirewallException e) {
                LOG.warn("IPv6 connections are not intercepted: {}", e.getMessage());
            }
        } else {
            LOG.warn("IPv6 connections are not intercepted: ip6tables was unusable at start");
        }
        spec = wanted;
        if (previous != null && (previous.mark() != wanted.mark() || previous.routingTable() != wanted.routingTable())) {
            removeRouting(false, previous.mark(), previous.routingTable());
            removeRouting(true, previous.mark(), previous.routingTable());
        }
    }

    /** Every command {@link #install} runs on a host where only {@code start()} has run. */
    List<String> describe(Interception wanted, String iptables, String ip6tables) {
        List<String> lines = new ArrayList<>();
        for (boolean ipv6 : new boolean[] {false, true}) {
            for (TproxyPlan.Command command : plan.plan(wanted, ipv6, ipv6 ? ip6tables : iptables, ip,
                    List.of(), List.of(rules.chainLine(Hook.IN)), List.of())) {
                lines.add(IptablesRules.commandLine(commands.argv(command.binary(), command.args())));
            }
        }
        return lines;
    }

    /** Flushes the DIVERT chain's rules (leases of an earlier run); returns how many there were. */
    int purgeDiverts(String iptables, List<String> mangle) throws FirewallException {
        // The ipset backend's static rule is no lease; it is added again after a flush.
        int orphans = (int) TproxyPlan.rulesOf(mangle, tproxy.divertChain()).stream()
                .filter(line -> !IpsetRules.isSetRule(line)).count();
        if (orphans > 0) {
            LOG.info("{}: removing {} orphaned rule(s) from {} left by an earlier run",
                    iptables, orphans, tproxy.divertChain());
            mustRun(iptables, tproxy.flushChain(tproxy.divertChain()));
        }
        return orphans;
    }

    /**
     * Removes, for one family, the PREROUTING jump, the routing of the remembered spec and of every
     * mark/table the listed intercept rules name (a crashed run's), then both mangle chains.
     */
    void remove(boolean ipv6, String iptables) throws FirewallException {
        List<String> mangle;
        try {
            mangle = lines(mustRun(iptables, tproxy.listMangle()));
        } catch (FirewallException e) {
            if (spec != null && !ipv6) {
                throw e;
            }
            // Nothing of ours can be in a table that cannot be read; the routing may still be ours.
            LOG.debug("{}: mangle table unreadable at stop: {}", iptables, e.getMessage());
            if (spec != null) {
                removeRouting(true, spec.mark(), spec.routingTable());
            }
            return;
        }
        for (String line : mangle) {
            if (line.equals(tproxy.jumpLine())) {
                mustRun(iptables, tproxy.deleteJump());
            }
        }
        Set<List<Integer>> routing = new LinkedHashSet<>();
        if (spec != null) {
            routing.add(List.of(spec.mark(), spec.routingTable()));
        }
        for (String line : TproxyPlan.rulesOf(mangle, tproxy.interceptChain())) {
            var mark = TproxyRules.markOf(line);
            var table = TproxyRules.tableOf(line);
            if (mark.isPresent() && table.isPresent()) {
                routing.add(List.of(mark.get(), table.get()));
            }
        }
        for (List<Integer> markAndTable : routing) {
            removeRouting(ipv6, markAndTable.get(0), markAndTable.get(1));
        }
        List<String> chains = List.of(tproxy.interceptChain(), tproxy.divertChain());
        for (String chain : chains) {
            if (mangle.contains("-N " + chain)) {
                mustRun(iptables, tproxy.flushChain(chain));
            }
        }
        for (String chain : chains) {
            if (mangle.contains("-N " + chain)) {
                mustRun(iptables, tproxy.deleteChain(chain));
            }
        }
    }

    /** After both families are removed: the next lease needs a new {@link #install}. */
    void forget() {
        spec = null;
    }

    private void installFamily(Interception wanted, boolean ipv6, String iptables) throws FirewallException {
        List<String> filter = lines(mustRun(iptables, rules.listTable()));
        if (!filter.contains(rules.chainLine(Hook.IN))) {
            throw new FirewallException(iptables + ": chain " + rules.chain(Hook.IN)
                    + " is missing; start() must run before intercept()");
        }
        List<String> mangle = lines(mustRun(iptables, tproxy.listMangle()));
        List<String> ipRules = lines(mustRun(ip, tproxy.listIpRules(ipv6)));
        for (TproxyPlan.Command command : plan.plan(wanted, ipv6, iptables, ip, mangle, filter, ipRules)) {
            mustRun(command.binary(), command.args());
        }
    }

    /** Removes ftpgate's ip rules for this mark and table, and the local route of the table. */
    private void removeRouting(boolean ipv6, int mark, int table) throws FirewallException {
        List<String> listed;
        try {
            listed = lines(mustRun(ip, tproxy.listIpRules(ipv6)));
        } catch (FirewallException e) {
            if (!ipv6) {
                throw e;
            }
            LOG.debug("ip -6 rule unusable: {}", e.getMessage());
            return;
        }
        for (String line : listed) {
            if (TproxyRules.isIpRule(line, mark, table)) {
                mustRun(ip, tproxy.deleteIpRule(mark, table, ipv6));
            }
        }
        CommandRunner.Result route = commands.run(ip, tproxy.deleteLocalRoute(table, ipv6));
        if (!route.ok() && !route.stderr().contains("No such process")) {
            throw Commands.failed("interception", route);
        }
    }

    private CommandRunner.Result mustRun(String binary, List<String> args) throws FirewallException {
        return commands.mustRun("interception", binary, args);
    }

    private static List<String> lines(CommandRunner.Result result) {
        return Commands.lines(result);
    }
}
