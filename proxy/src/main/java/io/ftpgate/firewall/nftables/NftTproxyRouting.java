package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.TproxyRouting;
import io.ftpgate.firewall.process.CommandRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nftables backend's routing of transparent interception: runs what
 * {@link TproxyRouting} builds (the same {@code ip rule} and local route as the iptables
 * backends), only what is missing, and removes it again. Called only by {@link NftFirewall}, on
 * its one thread.
 */
final class NftTproxyRouting {

    private static final Logger LOG = LoggerFactory.getLogger(NftTproxyRouting.class);
    /** The routing tool (run with the command prefix). */
    private static final String IP = "ip";

    private final List<String> prefix;
    private final Duration commandTimeout;
    private final CommandRunner runner;

    NftTproxyRouting(List<String> prefix, Duration commandTimeout, CommandRunner runner) {
        this.prefix = List.copyOf(prefix);
        this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /** The commands {@link #add} runs on a host without them, for {@code --print-firewall}. */
    List<String> describe(Interception wanted, boolean ipv6) {
        return List.of(CommandRunner.commandLine(ipArgv(TproxyRouting.addIpRule(wanted.mark(), wanted.routingTable(), ipv6))),
                CommandRunner.commandLine(ipArgv(TproxyRouting.replaceLocalRoute(wanted.routingTable(), ipv6))));
    }

    void add(Interception wanted, boolean ipv6) throws FirewallException {
        String listed = mustRunArgv("interception", ipArgv(TproxyRouting.listIpRules(ipv6))).stdout();
        if (listed.lines().noneMatch(line -> TproxyRouting.isIpRule(line, wanted.mark(), wanted.routingTable()))) {
            mustRunArgv("interception", ipArgv(TproxyRouting.addIpRule(wanted.mark(), wanted.routingTable(), ipv6)));
        }
        mustRunArgv("interception", ipArgv(TproxyRouting.replaceLocalRoute(wanted.routingTable(), ipv6)));
    }

    /** Removes ftpgate's ip rules for this mark and table and the table's local route, IPv4 and IPv6. */
    void remove(int mark, int table) throws FirewallException {
        for (boolean ipv6 : new boolean[] {false, true}) {
            String listed;
            try {
                listed = mustRunArgv("interception", ipArgv(TproxyRouting.listIpRules(ipv6))).stdout();
            } catch (FirewallException e) {
                if (!ipv6) {
                    throw e;
                }
                LOG.debug("ip -6 rule unusable: {}", e.getMessage());
                continue;
            }
            for (String line : listed.lines().toList()) {
                if (TproxyRouting.isIpRule(line, mark, table)) {
                    mustRunArgv("interception", ipArgv(TproxyRouting.deleteIpRule(mark, table, ipv6)));
                }
            }
            CommandRunner.Result route = runArgv(ipArgv(TproxyRouting.deleteLocalRoute(table, ipv6)));
            if (!route.ok() && !TproxyRouting.noSuchRoute(route.stderr())) {
                throw new FirewallException("interception command failed: " + CommandRunner.commandLine(route.argv())
                        + ": " + route.failure(), null, FirewallException.Residue.NONE, route.timedOut());
            }
        }
    }

    private List<String> ipArgv(List<String> args) {
        List<String> argv = new ArrayList<>(prefix);
        argv.add(IP);
        argv.addAll(args);
        return argv;
    }

    private CommandRunner.Result runArgv(List<String> argv) throws FirewallException {
        try {
            return runner.run(argv, commandTimeout, null);
        } catch (IOException e) {
            throw new FirewallException("cannot run " + CommandRunner.commandLine(argv) + ": " + e.getMessage(), e);
        }
    }

    private CommandRunner.Result mustRunArgv(String label, List<String> argv) throws FirewallException {
        CommandRunner.Result result = runArgv(argv);
        LOG.debug("{} ({} ms, {})", CommandRunner.commandLine(argv), result.elapsed().toMillis(),
                result.ok() ? "ok" : result.failure());
        if (!result.ok()) {
            throw new FirewallException("nftables " + label + " command failed: " + CommandRunner.commandLine(argv) + ": "
                    + result.failure(), null, FirewallException.Residue.NONE, result.timedOut());
        }
        return result;
    }

}
