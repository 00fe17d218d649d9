package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.Commands;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
 * <p>{@link #intercept} adds transparent interception (TPROXY, mangle table, {@code ip rule} and
 * {@code ip route}; the exact lines are in {@link TproxyRules}); call it after {@link #start()}.
 * An INBOUND lease with {@code divert} is two rules: the filter rule of every inbound lease and a
 * {@code TPROXY} rule in the DIVERT chain, applied all or nothing. {@link #stop()} also removes the
 * interception: the spec it was given, or, in a fresh process, what the listed chains name.
 *
 * <p>{@link #prepareForwarding} sets up the kernel path, {@link #applyForward} adds the four rules
 * of a {@link ForwardLease} (the exact lines are in {@link ForwardRules}); {@link #start()} and
 * {@link #stop()} remove the kernel path's chains with whatever they hold.
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
    private final TproxyRules tproxy;
    private final TproxyInterception interception;
    private final ForwardPath forward;
    private final Commands commands;
    private final String iptables;
    private final String ip6tables;
    private final boolean guardOutput;
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
        this(chainPrefix, commandPrefix, iptables, ip6tables, "ip", commandTimeout, guardOutput);
    }

    /** @param ip the iproute2 binary for {@code ip rule} and {@code ip route} (interception only) */
    public IptablesFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables,
            String ip, Duration commandTimeout, boolean guardOutput) {
        this(chainPrefix, commandPrefix, iptables, ip6tables, ip, commandTimeout, guardOutput, new CommandRunner());
    }

    IptablesFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables,
            Duration commandTimeout, boolean guardOutput, CommandRunner runner) {
        this(chainPrefix, commandPrefix, iptables, ip6tables, "ip", commandTimeout, guardOutput, runner);
    }

    IptablesFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables,
            String ip, Duration commandTimeout, boolean guardOutput, CommandRunner runner) {
        this.rules = new IptablesRules(chainPrefix);
        this.commands = new Commands(commandPrefix, commandTimeout, runner);
        this.interception = new TproxyInterception(rules, ip, commands);
        this.tproxy = interception.rules();
        this.iptables = Objects.requireNonNull(iptables, "iptables");
        this.ip6tables = Objects.requireNonNull(ip6tables, "ip6tables");
        this.forward = new ForwardPath(rules, commands, iptables, ip6tables);
        this.guardOutput = guardOutput;
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
        List<String> ipv4Table = listTable(Family.IPV4);
        int orphans = prepare(Family.IPV4, ipv4Table);
        orphans += interception.purgeDiverts(iptables, listMangle(Family.IPV4));
        orphans += forward.purge(iptables, ipv4Table);
        ipv6Enabled = false;
        forward.forget();
        List<String> ipv6Table;
        List<String> ipv6Mangle;
        try {
            ipv6Table = listTable(Family.IPV6);
            ipv6Mangle = listMangle(Family.IPV6);
        } catch (FirewallException e) {
            LOG.warn("IPv6 leases disabled, ip6tables is unusable: {}", e.getMessage());
            return orphans;
        }
        orphans += prepare(Family.IPV6, ipv6Table);
        orphans += interception.purgeDiverts(ip6tables, ipv6Mangle);
        orphans += forward.purge(ip6tables, ipv6Table);
        ipv6Enabled = true;
        if (interception.spec() != null) {
            // start() after intercept(): the flush of orphans may have taken the accept rules.
            intercept(interception.spec());
        }
        return orphans;
    }

    /**
     * Installs the interception for IPv4, and for IPv6 unless ip6tables was unusable at start or an
     * IPv6 command fails (logged, skipped). Run {@link #start()} first: the accept rules go into
     * {@code <prefix>-IN}.
     */
    @Override
    public void intercept(Interception spec) throws FirewallException {
        interception.install(spec, iptables, ip6tables, ipv6Enabled);
    }

    @Override
    public List<String> describeIntercept(Interception spec) {
        return interception.describe(spec, iptables, ip6tables);
    }

    /** Prepares the kernel path for IPv4 and, unless ip6tables was unusable at start, IPv6. */
    @Override
    public void prepareForwarding(int firstPort, int lastPort) throws FirewallException {
        forward.prepare(firstPort, lastPort, ipv6Enabled);
    }

    @Override
    public void applyForward(ForwardLease lease) throws FirewallException {
        forward.apply(lease);
    }

    @Override
    public void revokeForward(ForwardLease lease) throws FirewallException {
        forward.revoke(lease);
    }

    @Override
    public boolean forwardConnected(ForwardLease lease) throws FirewallException {
        return forward.connected(lease);
    }

    @Override
    public void apply(DataLease lease) throws FirewallException {
        Interception spec = interception.spec();
        if (isDivertedInbound(lease) && spec == null) {
            throw new FirewallException(lease + ": a diverted lease needs intercept() first (it supplies the packet mark)");
        }
        if (needsNoRule(lease)) {
            return;
        }
        Family family = familyOf(lease);
        FirewallException filterFailure = attempt(family, rules.appendLease(lease));
        if (filterFailure != null) {
            if (!filterFailure.timedOut()) {
                throw filterFailure; // iptables exits non-zero only when it committed nothing
            }
            // Killed at its timeout: the rule may be in all the same.
            throw FirewallException.compensated(filterFailure, deleteRule(lease, family, rules.deleteLease(lease)));
        }
        if (!isDivertedInbound(lease)) {
            return;
        }
        FirewallException divertFailure = attempt(family, tproxy.appendDivert(lease, spec.mark()));
        if (divertFailure != null) {
            // All or nothing: without its TPROXY rule the filter rule must not stay either.
            FirewallException undo = divertFailure.timedOut()
                    ? deleteRule(lease, family, tproxy.deleteDivert(lease, spec.mark())) : null;
            FirewallException undoFilter = deleteRule(lease, family, rules.deleteLease(lease));
            if (undo == null) {
                undo = undoFilter;
            } else if (undoFilter != null) {
                undo.addSuppressed(undoFilter);
            }
            throw FirewallException.compensated(divertFailure, undo);
        }
    }

    /** Runs a command that changes something; returns null if it worked, else its failure. */
    private FirewallException attempt(Family family, List<String> args) {
        try {
            CommandRunner.Result result = run(family, args);
            return result.ok() ? null : failed(family, result);
        } catch (FirewallException cannotStart) {
            return cannotStart; // nothing ran, so nothing changed
        }
    }

    /**
     * Makes the changes with one {@code iptables-restore --noflush} per family (one transaction of
     * the filter table, see {@link IptablesRules#restoreInput}); a diverted lease (two tables) and a
     * family with one change alone go one by one. If a batch fails, nothing of it was committed and
     * its changes are made one by one, so each gets its own result (one bad change, or a revoke of a
     * rule already gone, fails no other). If a batch times out, its effect is unknown: each revoke
     * is made again one by one (a rule already gone is fine), each apply fails as a timed-out
     * {@link #apply} does, its rule removed again (compensated).
     */
    @Override
    public List<FirewallException> change(List<LeaseChange> changes) {
        FirewallException[] results = new FirewallException[changes.size()];
        Map<Family, List<Integer>> batches = new EnumMap<>(Family.class);
        for (int i = 0; i < changes.size(); i++) {
            DataLease lease = changes.get(i).lease();
            if (isDivertedInbound(lease)) {
                results[i] = alone(changes.get(i));
                continue;
            }
            try {
                if (needsNoRule(lease)) {
                    continue;
                }
            } catch (FirewallException e) {
                results[i] = e;
                continue;
            }
            batches.computeIfAbsent(familyOf(lease), f -> new ArrayList<>()).add(i);
        }
        batches.forEach((family, indices) -> {
            if (indices.size() == 1) {
                results[indices.get(0)] = alone(changes.get(indices.get(0)));
                return;
            }
            List<List<String>> batch = new ArrayList<>(indices.size());
            for (int i : indices) {
                batch.add(command(changes.get(i)));
            }
            String restore = IptablesRules.restoreBinary(binary(family));
            CommandRunner.Result result;
            try {
                result = commands.run(restore, IptablesRules.restoreArguments(), IptablesRules.restoreInput(batch));
            } catch (FirewallException cannotStart) {
                LOG.warn("{}: {}; making {} change(s) one by one", family.label, cannotStart.getMessage(), indices.size());
                indices.forEach(i -> results[i] = alone(changes.get(i)));
                return;
            }
            if (result.ok()) {
                return;
            }
            FirewallException failure = failed(family, result);
            if (!result.timedOut()) {
                LOG.debug("{} batch of {} change(s) failed, nothing committed; one by one: {}", family.label,
                        indices.size(), failure.getMessage());
                indices.forEach(i -> results[i] = alone(changes.get(i)));
                return;
            }
            LOG.warn("{} batch of {} change(s) timed out; its applies are undone, its revokes made again: {}",
                    family.label, indices.size(), failure.getMessage());
            for (int i : indices) {
                DataLease lease = changes.get(i).lease();
                results[i] = changes.get(i).kind() == LeaseChange.Kind.REVOKE ? alone(changes.get(i))
                        : FirewallException.compensated(new FirewallException(lease + ": " + failure.getMessage(), null,
                                FirewallException.Residue.NONE, true), deleteRule(lease, family, rules.deleteLease(lease)));
            }
        });
        return Arrays.asList(results);
    }

    private List<String> command(LeaseChange change) {
        return change.kind() == LeaseChange.Kind.APPLY ? rules.appendLease(change.lease()) : rules.deleteLease(change.lease());
    }

    /** Makes one change as {@link #apply} or {@link #revoke}; returns null or its failure. */
    private FirewallException alone(LeaseChange change) {
        try {
            if (change.kind() == LeaseChange.Kind.APPLY) {
                apply(change.lease());
            } else {
                revoke(change.lease());
            }
            return null;
        } catch (FirewallException e) {
            return e;
        }
    }

    @Override
    public void revoke(DataLease lease) throws FirewallException {
        if (needsNoRule(lease)) {
            return;
        }
        Family family = familyOf(lease);
        FirewallException failure = null;
        if (isDivertedInbound(lease)) {
            Interception spec = interception.spec();
            if (spec == null) {
                LOG.debug("{}: no interception, so no TPROXY rule to remove", lease);
            } else {
                // The TPROXY rule first: no new connection is diverted once the permission is gone.
                failure = deleteRule(lease, family, tproxy.deleteDivert(lease, spec.mark()));
            }
        }
        FirewallException filterFailure = deleteRule(lease, family, rules.deleteLease(lease));
        if (failure == null) {
            failure = filterFailure;
        } else if (filterFailure != null) {
            failure.addSuppressed(filterFailure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Deletes one rule of the lease; a rule already gone is fine; returns the failure, if any. */
    private FirewallException deleteRule(DataLease lease, Family family, List<String> args) {
        CommandRunner.Result result;
        try {
            result = run(family, args);
        } catch (FirewallException e) {
            return e;
        }
        if (result.ok()) {
            return null;
        }
        if (Commands.isMissingRule(result)) {
            LOG.debug("{}: rule was already gone", lease);
            return null;
        }
        return failed(family, result);
    }

    @Override
    public void stop() throws FirewallException {
        List<String> ipv4Table = listTable(Family.IPV4);
        removeAll(Family.IPV4, ipv4Table);
        forward.purge(iptables, ipv4Table);
        forward.forget();
        interception.remove(false, iptables);
        List<String> ipv6Table;
        try {
            ipv6Table = listTable(Family.IPV6);
        } catch (FirewallException e) {
            // Nothing of ours can be in a table ip6tables cannot read; routing may still be ours.
            LOG.debug("ip6tables unusable at stop, nothing to remove: {}", e.getMessage());
            interception.remove(true, ip6tables);
            ipv6Enabled = false;
            interception.forget();
            return;
        }
        removeAll(Family.IPV6, ipv6Table);
        forward.purge(ip6tables, ipv6Table);
        interception.remove(true, ip6tables);
        ipv6Enabled = false;
        interception.forget();
    }

    /**
     * The periodic check: an {@code iptables-restore} of the admin's rules file (or
     * {@code iptables -F INPUT}) deletes ftpgate's chains or the jumps to them; each goes back
     * (the rules of the leases that lived in a deleted chain went with it), and the interception's
     * rules with a chain. The kernel path's chains are not checked.
     */
    @Override
    public List<String> restoreMissing() throws FirewallException {
        List<String> restored = new ArrayList<>();
        boolean chainRecreated = false;
        for (Family family : ipv6Enabled ? List.of(Family.IPV4, Family.IPV6) : List.of(Family.IPV4)) {
            List<String> table = listTable(family);
            for (Hook hook : Hook.values()) {
                if (hook == Hook.OUT && !guardOutput) {
                    continue;
                }
                TableState state = TableState.of(rules, hook, table);
                if (!state.chainExists()) {
                    mustRun(family, rules.newChain(hook));
                    restored.add("chain " + rules.chain(hook) + " (" + family.label + ")");
                    chainRecreated = true;
                }
                if (state.jumps() == 0) {
                    mustRun(family, rules.insertJump(hook));
                    restored.add("jump " + hook.builtinChain() + " -> " + rules.chain(hook) + " (" + family.label + ")");
                }
            }
        }
        if (chainRecreated && interception.spec() != null) {
            intercept(interception.spec());
        }
        return restored;
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
            for (int old = 0; old < state.oldJumps(); old++) {
                mustRun(family, rules.deleteOldJump(hook));
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
        for (int old = 0; old < state.oldJumps(); old++) {
            mustRun(family, rules.deleteOldJump(hook));
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
        return Commands.lines(mustRun(family, rules.listTable()));
    }

    private List<String> listMangle(Family family) throws FirewallException {
        return Commands.lines(mustRun(family, tproxy.listMangle()));
    }

    private static boolean isDivertedInbound(DataLease lease) {
        return lease.divert() && lease.direction() == DataLease.Direction.INBOUND;
    }

    private String binary(Family family) {
        return family == Family.IPV4 ? iptables : ip6tables;
    }

    /** How this backend runs commands (also the ipset backend's). */
    Commands commands() {
        return commands;
    }

    private CommandRunner.Result mustRun(Family family, List<String> args) throws FirewallException {
        return commands.mustRun(family.label + " firewall", binary(family), args);
    }

    private CommandRunner.Result run(Family family, List<String> args) throws FirewallException {
        return commands.run(binary(family), args);
    }

    private static FirewallException failed(Family family, CommandRunner.Result result) {
        return Commands.failed(family.label + " firewall", result);
    }

    private static Family familyOf(DataLease lease) {
        return lease.isIpv6() ? Family.IPV6 : Family.IPV4;
    }

    /** What {@code -S} shows of one of ftpgate's chains: does it exist, its rules, its jumps. */
    private record TableState(boolean chainExists, int rules, int jumps, int oldJumps) {

        static TableState of(IptablesRules rules, Hook hook, List<String> table) {
            String chainLine = rules.chainLine(hook);
            String rulePrefix = rules.ruleLinePrefix(hook);
            String jumpLine = rules.jumpLine(hook);
            String oldJumpLine = rules.oldJumpLine(hook);
            boolean exists = false;
            int ruleCount = 0;
            int jumpCount = 0;
            int oldJumpCount = 0;
            for (String line : table) {
                if (line.equals(chainLine)) {
                    exists = true;
                } else if (line.startsWith(rulePrefix) && !TproxyRules.isInterceptLine(line)
                        && !IpsetRules.isSetRule(line)) {
                    // Interception's accept rules and the ipset backend's static rules are not leases.
                    ruleCount++;
                } else if (line.equals(jumpLine)) {
                    jumpCount++;
                } else if (line.equals(oldJumpLine)) {
                    oldJumpCount++;
                }
            }
            return new TableState(exists, ruleCount, jumpCount, oldJumpCount);
        }
    }
}
