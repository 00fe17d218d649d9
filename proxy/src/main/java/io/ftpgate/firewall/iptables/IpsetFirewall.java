package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.process.Commands;

import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.Firewall;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ipset} backend: every lease is an entry, with its own timeout, in a kernel set
 * ({@code hash:ip,port,ip}), matched by one static rule per set in ftpgate's chains; the exact sets,
 * lines and rules are in {@link IpsetRules}. A lease change is one line to one long-lived
 * {@code ipset} process ({@link IpsetChannel}), acknowledged before {@link #apply} returns, and
 * costs the same with ten thousand live leases as with none; a packet meets one rule and a hash
 * lookup instead of a chain as long as the live leases.
 *
 * <p>The entry timeout (the data connect timeout and a margin) is the safety net: an entry
 * disappears by itself even if ftpgate is killed and never revokes it.
 *
 * <p>The chains, jumps and transparent interception are those of the {@code iptables} backend,
 * which this one drives for them ({@link IptablesFirewall}); only the leases differ.
 * {@link #start()} creates the sets idempotently, flushes the entries an earlier run left (its
 * orphans), and adds the static rules; {@link #stop()} removes chains and rules, then destroys the
 * sets (a set cannot be destroyed while a rule refers to it). Works with iptables-nft and
 * iptables-legacy (both use the kernel's {@code xt_set}), IPv4 and IPv6.
 */
public final class IpsetFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(IpsetFirewall.class);

    /** How much longer than the data connect timeout an entry lives: the lease thread may lag. */
    public static final Duration ENTRY_MARGIN = Duration.ofSeconds(5);

    private final IptablesFirewall tables;
    private final IptablesRules chains;
    private final IpsetRules rules;
    private final IpsetChannel channel;
    private final String iptables;
    private final String ip6tables;
    private final String ipset;
    private final boolean guardOutput;
    private final long entrySeconds;
    private Interception spec;

    /**
     * @param ipset the ipset binary
     * @param entryLifetime how long an entry lives unless revoked first (rounded up to seconds)
     * @see IptablesFirewall#IptablesFirewall(String, List, String, String, String, Duration, boolean)
     */
    public IpsetFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables, String ipset,
            String ip, Duration commandTimeout, boolean guardOutput, Duration entryLifetime) {
        this(chainPrefix, commandPrefix, iptables, ip6tables, ipset, ip, commandTimeout, guardOutput, entryLifetime,
                new CommandRunner(), null);
    }

    /** @param channel null for the real one; tests pass a recording one */
    IpsetFirewall(String chainPrefix, List<String> commandPrefix, String iptables, String ip6tables, String ipset,
            String ip, Duration commandTimeout, boolean guardOutput, Duration entryLifetime, CommandRunner runner,
            IpsetChannel channel) {
        this.tables = new IptablesFirewall(chainPrefix, commandPrefix, iptables, ip6tables, ip, commandTimeout,
                guardOutput, runner);
        this.chains = new IptablesRules(chainPrefix);
        this.rules = new IpsetRules(chains);
        this.iptables = Objects.requireNonNull(iptables, "iptables");
        this.ip6tables = Objects.requireNonNull(ip6tables, "ip6tables");
        this.ipset = Objects.requireNonNull(ipset, "ipset");
        this.guardOutput = guardOutput;
        if (entryLifetime.isNegative() || entryLifetime.isZero()) {
            throw new IllegalArgumentException("entry lifetime must be positive, not " + entryLifetime);
        }
        this.entrySeconds = (entryLifetime.toMillis() + 999) / 1000;
        this.channel = channel != null ? channel
                : new IpsetChannel(tables.commands().argv(ipset, List.of("-exist", "-")), rules, commandTimeout, runner);
    }

    @Override
    public String name() {
        return "ipset";
    }

    /** Whether IPv6 leases can be applied: ip6tables worked at the last {@link #start()}. */
    public boolean ipv6Enabled() {
        return tables.ipv6Enabled();
    }

    @Override
    public int start() throws FirewallException {
        List<String> existing = existingSets();
        int orphans = 0;
        for (IpsetRules.Kind kind : IpsetRules.Kind.values()) {
            for (boolean ipv6 : new boolean[] {false, true}) {
                String set = rules.set(kind, ipv6);
                if (existing.contains(set)) {
                    orphans += flushOrphans(set);
                }
                mustRun(ipset, rules.create(kind, ipv6));
            }
        }
        orphans += tables.start();
        addStaticRules(false);
        if (tables.ipv6Enabled()) {
            addStaticRules(true);
        }
        if (spec != null) {
            // The tables' start() re-installed the interception, and may have flushed DIVERT.
            addDivertRules(spec);
        }
        return orphans;
    }

    @Override
    public void intercept(Interception wanted) throws FirewallException {
        tables.intercept(wanted);
        if (spec != null && spec.mark() != wanted.mark()) {
            for (boolean ipv6 : families()) {
                deleteIfPresent(ipv6, rules.deleteDivertRule(ipv6, spec.mark()));
            }
        }
        spec = wanted;
        addDivertRules(wanted);
    }

    @Override
    public List<String> describeIntercept(Interception wanted) {
        List<String> lines = new ArrayList<>(tables.describeIntercept(wanted));
        lines.add(IptablesRules.commandLine(tables.commands().argv(iptables, rules.appendDivertRule(false, wanted.mark()))));
        lines.add(IptablesRules.commandLine(tables.commands().argv(ip6tables, rules.appendDivertRule(true, wanted.mark()))));
        return lines;
    }

    @Override
    public void apply(DataLease lease) throws FirewallException {
        if (isDivertedInbound(lease) && spec == null) {
            throw new FirewallException(lease + ": a diverted lease needs intercept() first (it supplies the packet mark)");
        }
        if (needsNoEntry(lease)) {
            return;
        }
        try {
            channel.execute(rules.addLines(lease, entrySeconds));
        } catch (FirewallException e) {
            // All or nothing: a diverted lease is two entries; a lost acknowledgement may hide one.
            FirewallException undo = null;
            try {
                channel.execute(rules.deleteLines(lease));
            } catch (FirewallException undoFailure) {
                undo = undoFailure;
            }
            throw FirewallException.compensated(new FirewallException(lease + ": " + e.getMessage(), e,
                    FirewallException.Residue.NONE, e.timedOut()), undo);
        }
    }

    @Override
    public void revoke(DataLease lease) throws FirewallException {
        if (needsNoEntry(lease)) {
            return;
        }
        try {
            channel.execute(rules.deleteLines(lease));
        } catch (FirewallException e) {
            throw new FirewallException(lease + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes chains, jumps, interception and static rules (through the iptables backend), then
     * destroys ftpgate's sets and ends the channel. Idempotent; works in a fresh process.
     */
    @Override
    public void stop() throws FirewallException {
        try {
            tables.stop();
        } finally {
            channel.close();
            spec = null;
        }
        for (String set : existingSets()) {
            if (rules.allSets().contains(set)) {
                mustRun(ipset, rules.destroy(set));
            }
        }
    }

    /** The sets of this namespace, by name; none if ipset lists nothing. */
    private List<String> existingSets() throws FirewallException {
        return Commands.lines(mustRun(ipset, rules.listNames()));
    }

    private int flushOrphans(String set) throws FirewallException {
        int entries = IpsetRules.entries(mustRun(ipset, rules.listHeader(set)).stdout());
        if (entries > 0) {
            LOG.info("removing {} orphaned lease(s) from set {} left by an earlier run", entries, set);
        }
        mustRun(ipset, rules.flush(set));
        return Math.max(entries, 0);
    }

    /**
     * The periodic check: sets someone destroyed come back empty (their leases went with them);
     * chains and jumps as the iptables backend puts them back; the rules that match the sets come
     * back into the chains, so that the live leases of sets that stayed work again.
     */
    @Override
    public List<String> restoreMissing() throws FirewallException {
        List<String> restored = new ArrayList<>();
        List<String> existing = existingSets();
        for (IpsetRules.Kind kind : IpsetRules.Kind.values()) {
            for (boolean ipv6 : new boolean[] {false, true}) {
                String set = rules.set(kind, ipv6);
                if (!existing.contains(set)) {
                    mustRun(ipset, rules.create(kind, ipv6));
                    restored.add("set " + set);
                }
            }
        }
        restored.addAll(tables.restoreMissing());
        for (boolean ipv6 : families()) {
            for (String rule : addStaticRules(ipv6)) {
                restored.add("rule " + rule + " (" + (ipv6 ? "IPv6" : "IPv4") + ")");
            }
        }
        if (spec != null) {
            addDivertRules(spec);
        }
        return restored;
    }

    /** The filter rules of one family, each exactly once, after the lease chains exist; returns those it added. */
    private List<String> addStaticRules(boolean ipv6) throws FirewallException {
        List<Hook> hooks = guardOutput ? List.of(Hook.IN, Hook.OUT) : List.of(Hook.IN);
        List<String> listing = list(ipv6, chains.listTable());
        List<String> added = new ArrayList<>();
        for (Hook hook : hooks) {
            if (ensureOnce(ipv6, listing, rules.appendFilterRule(hook, ipv6), rules.deleteFilterRule(hook, ipv6))) {
                added.add(TproxyRules.listed(rules.appendFilterRule(hook, ipv6)));
            }
        }
        return added;
    }

    private void addDivertRules(Interception wanted) throws FirewallException {
        for (boolean ipv6 : families()) {
            List<String> mangle = list(ipv6, new TproxyRules(chains).listMangle());
            ensureOnce(ipv6, mangle, rules.appendDivertRule(ipv6, wanted.mark()),
                    rules.deleteDivertRule(ipv6, wanted.mark()));
        }
    }

    /** Appends the rule if the listing lacks it (and says so), deletes copies beyond the first. */
    private boolean ensureOnce(boolean ipv6, List<String> listing, List<String> append, List<String> delete)
            throws FirewallException {
        String listed = TproxyRules.listed(append);
        long present = listing.stream().filter(listed::equals).count();
        if (present == 0) {
            mustRun(binary(ipv6), append);
        }
        for (long extra = 1; extra < present; extra++) {
            mustRun(binary(ipv6), delete);
        }
        return present == 0;
    }

    private void deleteIfPresent(boolean ipv6, List<String> delete) throws FirewallException {
        CommandRunner.Result result = run(binary(ipv6), delete);
        if (!result.ok()) {
            LOG.debug("{}: {}", IptablesRules.commandLine(result.argv()), result.failure());
        }
    }

    private List<String> list(boolean ipv6, List<String> args) throws FirewallException {
        return Commands.lines(mustRun(binary(ipv6), args));
    }

    private boolean[] families() {
        return tables.ipv6Enabled() ? new boolean[] {false, true} : new boolean[] {false};
    }

    /** True for an outbound lease while OUTPUT is unguarded; throws for IPv6 when it is disabled. */
    private boolean needsNoEntry(DataLease lease) throws FirewallException {
        if (lease.isIpv6() && !tables.ipv6Enabled()) {
            throw new FirewallException(lease + ": IPv6 leases are disabled (ip6tables was unusable at start)");
        }
        if (lease.direction() == DataLease.Direction.OUTBOUND && !guardOutput) {
            LOG.debug("{}: OUTPUT is not guarded, no entry needed", lease);
            return true;
        }
        return false;
    }

    private static boolean isDivertedInbound(DataLease lease) {
        return lease.divert() && lease.direction() == DataLease.Direction.INBOUND;
    }

    private String binary(boolean ipv6) {
        return ipv6 ? ip6tables : iptables;
    }

    private CommandRunner.Result mustRun(String binary, List<String> args) throws FirewallException {
        return tables.commands().mustRun("firewall", binary, args);
    }

    private CommandRunner.Result run(String binary, List<String> args) throws FirewallException {
        return tables.commands().run(binary, args);
    }
}
