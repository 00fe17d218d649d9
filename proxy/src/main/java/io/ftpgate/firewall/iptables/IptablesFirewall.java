package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code iptables} backend: one rule per lease in ftpgate's own chains, for IPv4 (iptables)
 * and IPv6 (ip6tables); the exact lines are in {@link IptablesRules}. Works with iptables-nft and
 * iptables-legacy.
 *
 * <p>{@link #start()} makes the chains and jumps exist exactly once per family and removes the
 * rules an earlier run left behind; if ip6tables is missing or unusable, IPv6 leases are disabled
 * (with a warning) and fail. {@link #stop()} removes jumps and chains and is idempotent. Outbound
 * leases need a rule only when OUTPUT is guarded; otherwise they are allowed as is.
 *
 * <p>Every command runs as {@code commandPrefix + binary + arguments} (a prefix such as
 * {@code ip netns exec NS} lets tests work inside a network namespace), and is logged at DEBUG with
 * its duration. Like every {@link Firewall}, it is called from one thread at a time.
 */
public final class IptablesFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesFirewall.class);

    /** One address family: the binary that manages it. */
    private enum Family {
        IPV4("IPv4"), IPV6("IPv6");

        final String label;

        Family(String label) {
            this.label = label;
        }
    }

    private final IptablesRules rules;
    private final List<String> commandPrefix;
    private final String iptables;
    private final String ip6tables;
    private final Duration commandTimeout;
    private final boolean guardOutput;
    private final CommandRunner runner;
    private boolean ipv6Enabled;

    /**
     * @param chainPrefix names ftpgate's chains, e.g. {@code FTPGATE} for {@code FTPGATE-IN}
     * @param commandPrefix run before the binary, e.g. {@code []} or {@code [ip, netns, exec, NS]}
     * @param iptables the IPv4 binary, e.g. {@code iptables} or {@code iptables-legacy}
     * @param ip6tables the IPv6 binary
     * @param commandTimeout how long one command may run before it is killed
     * @param guardOutput whether outbound data connections need a rule (in {@code <prefix>-OUT})
     */
    public IptablesFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables,
            Duration commandTimeout, boolean guardOutput) {
        this(chainPrefix, commandPrefix, iptables, ip6tables, commandTimeout, guardOutput, new CommandRunner());
    }

    IptablesFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables,
            Duration commandTimeout, boolean guardOutput, CommandRunner runner) {
        this.rules = new IptablesRules(chainPrefix);
        this.commandPrefix = List.copyOf(commandPrefix);
        this.iptables = Objects.requireNonNull(iptables, "iptables");
        this.ip6tables = Objects.requireNonNull(ip6tables, "ip6tables");
        this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("command timeout must be positive, not " + commandTimeout);
        }
        this.guardOutput = guardOutput;
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    @Override
    public String name() {
        return "iptables";
    }

    /** Whether IPv6 leases can be applied: ip6tables worked at the last {@link #start()}. */
    public boolean ipv6Enabled() {
        return ipv6Enabled;
    }

    @Override
    public int start() throws FirewallException {
        int orphans = prepare(Family.IPV4, listTable(Family.IPV4));
        ipv6Enabled = false;
        List<String> ipv6Table;
        try {
            ipv6Table = listTable(Family.IPV6);
        } catch (FirewallException e) {
            LOG.warn("IPv6 leases disabled, ip6tables is unusable: {}", e.getMessage());
            return orphans;
        }
        orphans += prepare(Family.IPV6, ipv6Table);
        ipv6Enabled = true;
        return orphans;
    }

    @Override
    public void apply(DataLease lease) throws FirewallException {
        if (needsNoRule(lease)) {
            return;
        }
        mustRun(familyOf(lease), rules.appendLease(lease));
    }

    @Override
    public void revoke(DataLease lease) throws FirewallException {
        if (needsNoRule(lease)) {
            return;
        }
        Family family = familyOf(lease);
        CommandRunner.Result result = run(family, rules.deleteLease(lease));
        if (result.ok()) {
            return;
        }
        if (isMissingRule(result)) {
            LOG.debug("{}: rule was already gone", lease);
            return;
        }
        throw failed(family, result);
    }

    @Override
    public void stop() throws FirewallException {
        removeAll(Family.IPV4, listTable(Family.IPV4));
        List<String> ipv6Table;
        try {
            ipv6Table = listTable(Family.IPV6);
        } catch (FirewallException e) {
            // Nothing of ours can be in a table ip6tables cannot read.
            LOG.debug("ip6tables unusable at stop, nothing to remove: {}", e.getMessage());
            ipv6Enabled = false;
            return;
        }
        removeAll(Family.IPV6, ipv6Table);
        ipv6Enabled = false;
    }

    /** Creates what is missing, flushes orphans, keeps one jump per hook; returns the orphan count. */
    private int prepare(Family family, List<String> table) throws FirewallException {
        int orphans = 0;
        for (Hook hook : Hook.values()) {
            TableState state = TableState.of(rules, hook, table);
            orphans += state.rules();
            if (hook == Hook.OUT && !guardOutput) {
                // Left over from a run that guarded OUTPUT: no longer wanted.
                removeChain(family, hook, state);
                continue;
            }
            if (!state.chainExists()) {
                CommandRunner.Result created = run(family, rules.newChain(hook));
                if (!created.ok() && !created.stderr().contains("already exists")) {
                    throw failed(family, created);
                }
            } else if (state.rules() > 0) {
                LOG.info("{}: removing {} orphaned rule(s) from {} left by an earlier run",
                        family.label, state.rules(), rules.chain(hook));
                mustRun(family, rules.flushChain(hook));
            }
            if (state.jumps() == 0) {
                mustRun(family, rules.insertJump(hook));
            }
            for (int extra = 1; extra < state.jumps(); extra++) {
                mustRun(family, rules.deleteJump(hook));
            }
        }
        return orphans;
    }

    private void removeAll(Family family, List<String> table) throws FirewallException {
        for (Hook hook : Hook.values()) {
            removeChain(family, hook, TableState.of(rules, hook, table));
        }
    }

    private void removeChain(Family family, Hook hook, TableState state) throws FirewallException {
        for (int jump = 0; jump < state.jumps(); jump++) {
            mustRun(family, rules.deleteJump(hook));
        }
        if (state.chainExists()) {
            mustRun(family, rules.flushChain(hook));
            mustRun(family, rules.deleteChain(hook));
        }
    }

    /** True for an outbound lease while OUTPUT is unguarded; throws for IPv6 when it is disabled. */
    private boolean needsNoRule(DataLease lease) throws FirewallException {
        if (lease.isIpv6() && !ipv6Enabled) {
            throw new FirewallException(lease + ": IPv6 leases are disabled (ip6tables was unusable at start)");
        }
        if (IptablesRules.hookOf(lease) == Hook.OUT && !guardOutput) {
            LOG.debug("{}: OUTPUT is not guarded, no rule needed", lease);
            return true;
        }
        return false;
    }

    private List<String> listTable(Family family) throws FirewallException {
        CommandRunner.Result result = mustRun(family, rules.listTable());
        return result.stdout().lines().map(String::strip).toList();
    }

    private CommandRunner.Result mustRun(Family family, List<String> args) throws FirewallException {
        CommandRunner.Result result = run(family, args);
        if (!result.ok()) {
            throw failed(family, result);
        }
        return result;
    }

    private CommandRunner.Result run(Family family, List<String> args) throws FirewallException {
        List<String> argv = new ArrayList<>(commandPrefix);
        argv.add(family == Family.IPV4 ? iptables : ip6tables);
        argv.addAll(args);
        CommandRunner.Result result;
        try {
            result = runner.run(argv, commandTimeout);
        } catch (IOException e) {
            throw new FirewallException("cannot run " + IptablesRules.commandLine(argv) + ": " + e.getMessage(), e);
        }
        LOG.debug("{} ({} ms, {})", IptablesRules.commandLine(argv), result.elapsed().toMillis(),
                result.ok() ? "ok" : result.failure());
        return result;
    }

    private static FirewallException failed(Family family, CommandRunner.Result result) {
        return new FirewallException(family.label + " firewall command failed: "
                + IptablesRules.commandLine(result.argv()) + ": " + result.failure());
    }

    /** A {@code -D} of a rule that is not there: exit 1 and iptables' "Bad rule" text. */
    private static boolean isMissingRule(CommandRunner.Result result) {
        String err = result.stderr();
        return !result.timedOut() && result.exitCode() == 1
                && (err.contains("Bad rule") || err.contains("does a matching rule exist"));
    }

    private static Family familyOf(DataLease lease) {
        return lease.isIpv6() ? Family.IPV6 : Family.IPV4;
    }

    /** What {@code -S} shows of one of ftpgate's chains: does it exist, its rules, its jumps. */
    private record TableState(boolean chainExists, int rules, int jumps) {

        static TableState of(IptablesRules rules, Hook hook, List<String> table) {
            String chainLine = rules.chainLine(hook);
            String rulePrefix = rules.ruleLinePrefix(hook);
            String jumpLine = rules.jumpLine(hook);
            boolean exists = false;
            int ruleCount = 0;
            int jumpCount = 0;
            for (String line : table) {
                if (line.equals(chainLine)) {
                    exists = true;
                } else if (line.startsWith(rulePrefix)) {
                    ruleCount++;
                } else if (line.equals(jumpLine)) {
                    jumpCount++;
                }
            }
            return new TableState(exists, ruleCount, jumpCount);
        }
    }
}
