package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.ForwardLease;
import io.ftpgate.firewall.process.CommandRunner;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The nftables backend's kernel-path leases: their lines ({@link NftForwarding}) through the
 * backend's {@code nft -i} channel, with the backend's failure rules (a refused line after a lost
 * table: the table is put back and the line tried once more; no acknowledgement: the elements are
 * removed again). Called only by {@link NftFirewall}, on its one thread, after prepareForwarding.
 */
final class NftKernelPath {

    private final NftRules rules;
    private final NftChannel channel;
    private final long entrySeconds;
    private final BooleanSupplier reinstallIfGone;

    /** @param reinstallIfGone puts ftpgate's table back if it is gone; whether it did */
    NftKernelPath(NftRules rules, NftChannel channel, long entrySeconds, BooleanSupplier reinstallIfGone) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.entrySeconds = entrySeconds;
        this.reinstallIfGone = Objects.requireNonNull(reinstallIfGone, "reinstallIfGone");
    }

    /** The lease's two elements in one transaction; without acknowledgement they are removed again. */
    void apply(ForwardLease lease) throws FirewallException {
        String line = rules.applyForward(lease, entrySeconds);
        Map<String, String> refused;
        try {
            refused = channel.execute(List.of(line));
            if (!refused.isEmpty() && reinstallIfGone.getAsBoolean()) {
                refused = channel.execute(List.of(line));
            }
        } catch (FirewallException lost) {
            FirewallException undo = null;
            try {
                Map<String, String> undoRefused = channel.execute(List.of(rules.revokeForward(lease)));
                if (!undoRefused.isEmpty()) {
                    undo = new FirewallException("nft refused the undo: " + String.join("; ", undoRefused.values()));
                }
            } catch (FirewallException e) {
                undo = e;
            }
            throw FirewallException.compensated(new FirewallException(lease + ": " + lost.getMessage(), lost,
                    FirewallException.Residue.NONE, lost.timedOut()), undo);
        }
        if (!refused.isEmpty()) {
            throw new FirewallException(lease + ": nft refused " + line + ": " + String.join("; ", refused.values()));
        }
    }

    /** Removes the lease's elements, and the kernel's record of its connection; a connection made goes on. */
    void revoke(ForwardLease lease) throws FirewallException {
        String line = rules.revokeForward(lease);
        Map<String, String> refused = channel.execute(List.of(line));
        if (!refused.isEmpty()) {
            throw new FirewallException(lease + ": nft refused " + line + ": " + String.join("; ", refused.values()));
        }
    }

    /**
     * Whether the kernel recorded the lease's connection in {@code used4}/{@code used6}, from the
     * result of {@code nft get element} ({@link NftRules#forwardUsed}): success, or "No such file".
     */
    boolean connected(ForwardLease lease, CommandRunner.Result result) throws FirewallException {
        if (result.ok()) {
            return true;
        }
        if (result.stderr().contains("No such file or directory") && !result.timedOut()) {
            return false;
        }
        throw new FirewallException(lease + ": nftables kernel path query failed: "
                + CommandRunner.commandLine(result.argv()) + ": " + result.failure(), null,
                FirewallException.Residue.NONE, result.timedOut());
    }
}
