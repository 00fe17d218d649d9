package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.nftables.NftListing.BaseChain;
import io.ftpgate.firewall.nftables.NftListing.HookChain;
import io.ftpgate.firewall.nftables.NftListing.ListedRule;
import io.ftpgate.firewall.nftables.NftListing.Ruleset;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.process.Commands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nftables} backend: every lease is an element, with its own timeout, of a set in
 * ftpgate's own table ({@code inet ftpgate}); a base chain of that table, at a priority below the
 * admin's chains, marks the first packet of a leased connection, and one rule at the top of each
 * of the admin's drop chains ({@code firewall.nftables.hook-chains}) accepts marked packets. The
 * exact objects are in {@link NftRules}. A lease change is one line to one long-lived {@code nft -i}
 * process ({@link NftChannel}), acknowledged before it counts as made; changes that queued up
 * together are one line, so one transaction.
 *
 * <p>With {@code manage} (the default) ftpgate inserts that rule at {@link #start()} and removes
 * exactly it, found by its comment and deleted by its handle, at {@link #stop()}; without, it only
 * maintains its table, and the admin puts the rule ({@link #describeLeaseObjects()}) into their
 * own ruleset. {@link #start()} replaces the table by a fresh copy (the elements an earlier run
 * left are its orphans) and removes managed rules an earlier run left, in the same transaction as
 * it inserts the new ones. The element timeout (the data connect timeout and a margin) is the
 * safety net: an element disappears by itself even if ftpgate is killed and never revokes it. If
 * nft refuses a change because the table is gone (the admin's {@code flush ruleset}), the table
 * and the managed rules are put back and the change is tried once more.
 *
 * <p>Transparent diversions ({@link #intercept}, {@link NftInterception}) and the kernel path
 * ({@link #prepareForwarding}, {@link NftForwarding}) become part of the table when the gateway
 * asks for them at start; {@link #apply} refuses a diverted lease before {@link #intercept}.
 */
public final class NftFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(NftFirewall.class);

    /** How much longer than the data connect timeout an element lives: the lease thread may lag. */
    public static final Duration ENTRY_MARGIN = Duration.ofSeconds(5);

    private final NftRules rules;
    private final List<HookChain> hookChains;
    private final boolean manage;
    private final List<String> prefix;
    private final String nft;
    private final Duration commandTimeout;
    private final CommandRunner runner;
    private final Commands commands;
    private final NftChannel channel;
    private final NftTproxyRouting routing;
    private final NftKernelPath kernelPath;
    private final long entrySeconds;
    /** The interception last installed, or null: part of the table from then on. */
    private Interception spec;
    /** The kernel path's data ports (first, last) once prepared, or null: part of the table from then on. */
    private int[] forwardPorts;

    /**
     * @param hookChains the admin's chains ({@code inet filter input}) that get the accepting rule
     * @param manage whether ftpgate inserts and removes that rule itself
     * @param commandPrefix put before {@code nft}, e.g. {@code [ip, netns, exec, gw]}
     * @param entryLifetime how long an element lives unless revoked first (rounded up to seconds)
     */
    public NftFirewall(NftRules rules, List<String> hookChains, boolean manage, List<String> commandPrefix, String nft,
            Duration commandTimeout, Duration entryLifetime) {
        this(rules, hookChains, manage, commandPrefix, nft, commandTimeout, entryLifetime, new CommandRunner(), null);
    }

    /** @param channel null for the real one; tests pass a recording one */
    NftFirewall(NftRules rules, List<String> hookChains, boolean manage, List<String> commandPrefix, String nft,
            Duration commandTimeout, Duration entryLifetime, CommandRunner runner, NftChannel channel) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.hookChains = hookChains.stream().map(HookChain::parse).toList();
        this.manage = manage;
        this.prefix = List.copyOf(commandPrefix);
        this.nft = Objects.requireNonNull(nft, "nft");
        this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
        this.runner = Objects.requireNonNull(runner, "runner");
        this.commands = new Commands(commandPrefix, commandTimeout, runner);
        if (entryLifetime.isNegative() || entryLifetime.isZero()) {
            throw new IllegalArgumentException("entry lifetime must be positive, not " + entryLifetime);
        }
        this.entrySeconds = (entryLifetime.toMillis() + 999) / 1000;
        this.routing = new NftTproxyRouting(prefix, commandTimeout, runner);
        this.channel = channel != null ? channel : new NftChannel(commands.argv(nft, List.of("-i")), rules, commandTimeout, runner);
        this.kernelPath = new NftKernelPath(rules, this.channel, entrySeconds, this::reinstallIfGone);
    }

    @Override
    public String name() {
        return "nftables";
    }

    /**
     * Checks the admin's chains, then in one transaction: replaces ftpgate's table by a fresh copy,
     * deletes managed rules an earlier run left, and (managed) inserts the rule in each chain.
     *
     * @return how many elements (leases) an earlier run left in ftpgate's sets
     */
    @Override
    public int start() throws FirewallException {
        Ruleset ruleset = listRuleset();
        int orphans = 0;
        Set<List<Integer>> leftRouting = Set.of();
        if (ruleset.hasTable()) {
            String listing = mustRun("list table", List.of("list", "table", "inet", rules.tableName()), null).stdout();
            orphans = NftListing.elements(listing);
            if (orphans > 0) {
                LOG.info("removing {} orphaned lease(s) from table {} left by an earlier run", orphans, rules.table());
            }
            leftRouting = NftInterception.routingOf(listing);
        }
        for (ListedRule left : ruleset.managedRules()) {
            LOG.info("removing ftpgate's rule (handle {}) from chain {} left by an earlier run", left.handle(), left.chain());
        }
        install(ruleset);
        for (List<Integer> markAndTable : leftRouting) {
            if (spec == null || spec.mark() != markAndTable.get(0) || spec.routingTable() != markAndTable.get(1)) {
                LOG.info("removing the interception routing (mark {}, table {}) left by an earlier run",
                        NftRules.hex(markAndTable.get(0)), markAndTable.get(1));
                routing.remove(markAndTable.get(0), markAndTable.get(1));
            }
        }
        // Starts nft -i now, so that a broken nft fails the start instead of the first lease.
        Map<String, String> said = channel.execute(List.of());
        if (!said.isEmpty()) {
            throw new FirewallException("nft -i: " + String.join("; ", said.values()));
        }
        if (!manage) {
            LOG.info("firewall.nftables.manage-hook-rules is off: your ruleset must accept what ftpgate marks"
                    + " (--print-firewall shows the rule)");
        }
        return orphans;
    }

    /**
     * In one transaction: a fresh copy of the table, the managed rules the listing shows deleted,
     * and (managed) the rule inserted in each chain, which must exist and be fit for it.
     */
    private void install(Ruleset ruleset) throws FirewallException {
        if (manage) {
            for (HookChain chain : hookChains) {
                check(chain, ruleset.baseChain(chain));
            }
        }
        StringBuilder script = new StringBuilder(rules.replaceTable(spec, forwardPorts, entrySeconds));
        for (ListedRule left : ruleset.managedRules()) {
            script.append(NftRules.deleteRule(left)).append('\n');
        }
        if (manage) {
            for (HookChain chain : hookChains) {
                script.append(rules.insertHookRule(chain)).append('\n');
            }
        }
        mustRun("set-up", List.of("-f", "-"), script.toString());
    }

    /**
     * After nft refused a batch: if ftpgate's table is gone (the admin's {@code nft -f} with
     * {@code flush ruleset}, e.g. {@code systemctl reload nftables}), puts the table and the
     * managed rules back, as at start, and says so.
     *
     * @return whether it did (then the batch is worth one more try)
     */
    private boolean reinstallIfGone() {
        try {
            Ruleset ruleset = listRuleset();
            if (ruleset.hasTable()) {
                return false;
            }
            LOG.warn("table {} is gone (was the ruleset reloaded with flush ruleset?): putting it{} back; live leases"
                    + " went with it", rules.table(), manage ? " and the rule in " + hookChains : "");
            install(ruleset);
            return true;
        } catch (FirewallException e) {
            LOG.error("table {} is gone and cannot be put back: {}", rules.table(), e.getMessage());
            return false;
        }
    }

    /**
     * The periodic check: a reload that deleted ftpgate's table (nft -f with flush ruleset) gets
     * the table and the rules put back as at start; one that rebuilt only the admin's table
     * ({@code flush table inet filter}, {@code firewall-cmd --reload}) took the rule inserted
     * there and gets just that rule back: ftpgate's table and its live leases stay.
     */
    @Override
    public List<String> restoreMissing() throws FirewallException {
        Ruleset ruleset = listRuleset();
        if (!ruleset.hasTable()) {
            install(ruleset);
            List<String> restored = new ArrayList<>(List.of("table " + rules.table()));
            if (manage) {
                hookChains.forEach(chain -> restored.add("rule in " + chain));
            }
            return restored;
        }
        if (!manage) {
            return List.of();
        }
        List<String> restored = new ArrayList<>();
        StringBuilder script = new StringBuilder();
        for (HookChain chain : hookChains) {
            boolean present = ruleset.managedRules().stream().anyMatch(rule -> rule.chain().equals(chain));
            if (!present) {
                check(chain, ruleset.baseChain(chain));
                script.append(rules.insertHookRule(chain)).append('\n');
                restored.add("rule in " + chain);
            }
        }
        if (!restored.isEmpty()) {
            mustRun("restore", List.of("-f", "-"), script.toString());
        }
        return restored;
    }

    /** Why the admin's chain cannot carry the rule, if it cannot. */
    private void check(HookChain chain, Optional<BaseChain> listed) throws FirewallException {
        String key = "firewall.nftables.hook-chains: ";
        if (listed.isEmpty()) {
            throw new FirewallException(key + "no base chain " + chain + " in the ruleset (nft list chains shows yours)");
        }
        BaseChain base = listed.get();
        if (base.hook().equals("output") && !rules.guardOutput()) {
            throw new FirewallException(key + chain + " hooks output, but firewall.guard-output is false: outbound"
                    + " data connections get no lease; set guard-output = true or leave the chain out");
        }
        if (!base.hook().equals("input") && !base.hook().equals("output") && !base.hook().equals("forward")) {
            throw new FirewallException(key + chain + " hooks " + base.hook() + "; the nftables backend leases"
                    + " connections to and from the gateway (input, output) and, with data.path = kernel, through it (forward)");
        }
        if (base.priority() <= rules.priority()) {
            throw new FirewallException(key + chain + " has priority " + base.priority() + ", not above ftpgate's "
                    + rules.priority() + " (firewall.nftables.priority): ftpgate must mark packets before it sees them");
        }
    }

    @Override
    public void apply(DataLease lease) throws FirewallException {
        throwIfFailed(change(List.of(LeaseChange.apply(lease))).get(0));
    }

    @Override
    public void revoke(DataLease lease) throws FirewallException {
        throwIfFailed(change(List.of(LeaseChange.revoke(lease))).get(0));
    }

    /**
     * The changes as one line (one transaction); if nft refuses it (then nothing went in), each
     * change on its own line, in one exchange, so that each gets its own result. A batch without
     * acknowledgement may have gone in: its leases are revoked again (the applies undone, the
     * revokes made again).
     */
    @Override
    public List<FirewallException> change(List<LeaseChange> changes) {
        List<FirewallException> results = new ArrayList<>(Collections.nCopies(changes.size(), null));
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            DataLease lease = changes.get(i).lease();
            if (lease.divert() && lease.direction() == DataLease.Direction.INBOUND && spec == null) {
                results.set(i, new FirewallException(lease + ": a diverted lease needs intercept() first"
                        + " (it supplies the sets of diversions and the packet mark)"));
            } else if (rules.needsEntry(lease)) {
                pending.add(i);
            } else {
                LOG.debug("{}: output is not guarded, no element needed", lease);
            }
        }
        if (pending.isEmpty()) {
            return results;
        }
        List<LeaseChange> batch = pending.stream().map(changes::get).toList();
        try {
            String line = rules.batch(batch, entrySeconds);
            Map<String, String> refused = channel.execute(List.of(line));
            if (!refused.isEmpty() && reinstallIfGone()) {
                refused = channel.execute(List.of(line));
            }
            if (refused.isEmpty()) {
                return results;
            }
            if (batch.size() > 1) {
                LOG.warn("nft refused a batch of {} change(s) ({}); making them one by one", batch.size(),
                        String.join("; ", refused.values()));
            }
            List<String> lines = batch.stream().map(c -> rules.change(c, entrySeconds)).toList();
            refused = batch.size() > 1 ? channel.execute(lines) : refused;
            for (int k = 0; k < batch.size(); k++) {
                String complaint = refused.getOrDefault(lines.get(k), refused.get(""));
                if (complaint != null) {
                    results.set(pending.get(k), new FirewallException(batch.get(k).lease() + ": nft refused "
                            + lines.get(k) + ": " + complaint));
                }
            }
        } catch (FirewallException lost) {
            undo(batch, pending, lost, results);
        }
        return results;
    }

    /** After a batch of unknown outcome: revokes every lease of it, each on its own line. */
    private void undo(List<LeaseChange> batch, List<Integer> pending, FirewallException lost,
            List<FirewallException> results) {
        List<String> revokes = batch.stream().map(c -> rules.change(LeaseChange.revoke(c.lease()), entrySeconds)).toList();
        Map<String, String> refused;
        FirewallException undoFailure = null;
        try {
            refused = channel.execute(revokes);
        } catch (FirewallException e) {
            refused = Map.of();
            undoFailure = e;
        }
        for (int k = 0; k < batch.size(); k++) {
            LeaseChange c = batch.get(k);
            FirewallException failure = new FirewallException(c.lease() + ": " + lost.getMessage(), lost,
                    FirewallException.Residue.NONE, lost.timedOut());
            String complaint = refused.getOrDefault(revokes.get(k), refused.get(""));
            FirewallException undo = undoFailure != null ? undoFailure
                    : complaint == null ? null : new FirewallException("nft refused " + revokes.get(k) + ": " + complaint);
            if (c.kind() == LeaseChange.Kind.APPLY) {
                results.set(pending.get(k), FirewallException.compensated(failure, undo));
            } else if (undo != null) {
                failure.addSuppressed(undo);
                results.set(pending.get(k), failure);
            } // else: the revoke was made again, and acknowledged
        }
    }

    /**
     * Removes the managed rules (wherever they are, found by their comment) and ftpgate's table, in
     * one transaction, then the interception's routing (the remembered spec's, and every mark and
     * routing table the listed table names), and ends the channel. Idempotent; works in a fresh process.
     */
    @Override
    public void stop() throws FirewallException {
        channel.close();
        Ruleset ruleset = listRuleset();
        Set<List<Integer>> routed = new LinkedHashSet<>();
        if (spec != null) {
            routed.add(List.of(spec.mark(), spec.routingTable()));
        }
        if (ruleset.hasTable()) {
            routed.addAll(NftInterception.routingOf(mustRun("list table",
                    List.of("-t", "list", "table", "inet", rules.tableName()), null).stdout()));
        }
        StringBuilder script = new StringBuilder();
        for (ListedRule rule : ruleset.managedRules()) {
            script.append(NftRules.deleteRule(rule)).append('\n');
        }
        script.append(rules.removeTable());
        mustRun("clean-up", List.of("-f", "-"), script.toString());
        for (List<Integer> markAndTable : routed) {
            routing.remove(markAndTable.get(0), markAndTable.get(1));
        }
        spec = null;
    }

    /**
     * Makes the interception part of ftpgate's table (a fresh copy of it: call this before the
     * first lease, as the gateway does at start; live elements would go) and adds the routing,
     * IPv4 and IPv6 (an IPv6 failure is logged and skipped). The routing of a previous spec with
     * another mark or table is removed.
     */
    @Override
    public void intercept(Interception wanted) throws FirewallException {
        Interception previous = spec;
        spec = Objects.requireNonNull(wanted, "spec");
        try {
            install(listRuleset());
        } catch (FirewallException e) {
            spec = previous;
            throw e;
        }
        for (boolean ipv6 : new boolean[] {false, true}) {
            try {
                routing.add(wanted, ipv6);
            } catch (FirewallException e) {
                if (!ipv6) {
                    throw e;
                }
                LOG.warn("IPv6 connections are not intercepted: {}", e.getMessage());
            }
        }
        if (previous != null && (previous.mark() != wanted.mark() || previous.routingTable() != wanted.routingTable())) {
            routing.remove(previous.mark(), previous.routingTable());
        }
    }

    /** The table with the interception, and the routing commands, for admins who manage rules themselves. */
    @Override
    public List<String> describeIntercept(Interception wanted) {
        List<String> lines = new ArrayList<>();
        lines.add("# ftpgate's own table with the interception (nft -f; created at start, removed at stop):");
        lines.addAll(rules.tableDefinition(wanted).lines().toList());
        lines.add("# routing:");
        for (boolean ipv6 : new boolean[] {false, true}) {
            lines.addAll(routing.describe(wanted, ipv6));
        }
        return lines;
    }

    /**
     * Makes the kernel path part of ftpgate's table (a fresh copy: call this before the first
     * lease, as the gateway does at start), see {@link NftForwarding}. The admin's forward chain
     * needs the accepting rule: list it in {@code firewall.nftables.hook-chains}.
     */
    @Override
    public void prepareForwarding(int firstPort, int lastPort) throws FirewallException {
        Ruleset ruleset = listRuleset();
        if (manage && hookChains.stream().noneMatch(c -> ruleset.baseChain(c).map(b -> b.hook().equals("forward")).orElse(false))) {
            throw new FirewallException("firewall.nftables.hook-chains names no chain of hook forward (e.g. \"inet filter"
                    + " forward\"): forwarded data connections would meet your forward chain's drop");
        }
        int[] previous = forwardPorts;
        forwardPorts = new int[] {firstPort, lastPort};
        try {
            install(ruleset);
        } catch (FirewallException e) {
            forwardPorts = previous;
            throw e;
        }
    }

    @Override
    public void applyForward(ForwardLease lease) throws FirewallException {
        requireForwarding(lease);
        kernelPath.apply(lease);
    }

    @Override
    public void revokeForward(ForwardLease lease) throws FirewallException {
        requireForwarding(lease);
        kernelPath.revoke(lease);
    }

    @Override
    public boolean forwardConnected(ForwardLease lease) throws FirewallException {
        requireForwarding(lease);
        return kernelPath.connected(lease, commands.run(nft, rules.forwardUsed(lease)));
    }

    private void requireForwarding(ForwardLease lease) throws FirewallException {
        if (forwardPorts == null) {
            throw new FirewallException(lease + ": the kernel path needs prepareForwarding() first");
        }
    }


    /**
     * What ftpgate creates and what the admin's ruleset needs: the table, and the rule for each
     * chain (inserted by ftpgate when managed; else to be put at the top of each drop chain).
     */
    @Override
    public List<String> describeLeaseObjects() {
        return describe(null);
    }

    /**
     * The same with the kernel path ({@link NftForwarding}): its maps, its set of used leases and
     * its three chains in the table, and the rule needed in the admin's forward chain as well.
     */
    @Override
    public List<String> describeLeaseObjects(int firstPort, int lastPort) {
        return describe(new int[] {firstPort, lastPort});
    }

    private List<String> describe(int[] ports) {
        List<String> lines = new ArrayList<>();
        lines.add("# ftpgate's own table, created at start (a fresh copy) and removed at stop"
                + (ports == null ? ":" : ", with the kernel path (data.path = kernel, data ports " + ports[0] + "-" + ports[1]
                        + "; a lease adds an element to fwd and snat, the kernel one to used):"));
        lines.addAll(rules.tableDefinition(null, ports, entrySeconds).lines().toList());
        if (manage) {
            lines.add("# inserted at start at the top of each chain of firewall.nftables.hook-chains, removed at stop"
                    + (ports == null ? ":" : " (the kernel path needs one of hook forward among them):"));
            for (HookChain chain : hookChains) {
                lines.add(rules.insertHookRule(chain));
            }
        } else {
            lines.add("# firewall.nftables.manage-hook-rules = false: put this rule at the top of each of your chains");
            lines.add("# (type filter, hook input" + (ports == null ? "" : " and hook forward")
                    + "; hook output too with guard-output) whose policy drops,");
            lines.add("# at a priority above " + rules.priority() + ":");
            lines.add(rules.hookRule(rules.adminComment()));
        }
        return lines;
    }

    /** {@code nft -a -t list ruleset}, parsed: base chains, managed rules, whether the table exists. */
    private Ruleset listRuleset() throws FirewallException {
        return rules.ruleset(mustRun("list ruleset", List.of("-a", "-t", "list", "ruleset"), null).stdout());
    }

    private static void throwIfFailed(FirewallException failure) throws FirewallException {
        if (failure != null) {
            throw failure;
        }
    }

    private CommandRunner.Result mustRun(String label, List<String> args, String input) throws FirewallException {
        CommandRunner.Result result = commands.run(nft, args, input);
        if (!result.ok()) {
            throw new FirewallException("nftables " + label + " command failed: " + CommandRunner.commandLine(result.argv())
                    + (input == null ? "" : " <<< " + input.strip().replace("\n", " \\n ")) + ": " + result.failure(),
                    null, FirewallException.Residue.NONE, result.timedOut());
        }
        return result;
    }
}
