package io.ftpgate.firewall.nftables;

import io.ftpgate.firewall.FirewallException;
import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.TproxyRouting;
import io.ftpgate.firewall.process.CommandRunner;
import io.ftpgate.firewall.process.Commands;
import java.time.Duration;
import java.util.List;
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

    private final Commands commands;

    NftTproxyRouting(List<String> prefix, Duration commandTimeout, CommandRunner runner) {
        this.commands = new Commands(prefix, commandTimeout, runner);
    }

    /** The commands {@link #add} runs on a host without them, for {@code --print-firewall}. */
    List<String> describe(Interception wanted, boolean ipv6) {
        return List.of(CommandRunner.commandLine(commands.argv(IP, TproxyRouting.addIpRule(wanted.mark(), wanted.routingTable(), ipv6))),
                CommandRunner.commandLine(commands.argv(IP, TproxyRouting.replaceLocalRoute(wanted.routingTable(), ipv6))));
    }

    void add(Interception wanted, boolean ipv6) throws FirewallException {
        String listed = commands.mustRun("interception", IP, TproxyRouting.listIpRules(ipv6)).stdout();
        if (listed.lines().noneMatch(line -> TproxyRouting.isIpRule(line, wanted.mark(), wanted.routingTable()))) {
            commands.mustRun("interception", IP, TproxyRouting.addIpRule(wanted.mark(), wanted.routingTable(), ipv6));
        }
        commands.mustRun("interception", IP, TproxyRouting.replaceLocalRoute(wanted.routingTable(), ipv6));
    }

    /** Removes ftpgate's ip rules for this mark and table and the table's local route, IPv4 and IPv6. */
    void remove(int mark, int table) throws FirewallException {
        for (boolean ipv6 : new boolean[] {false, true}) {
            String listed;
            try {
                listed = commands.mustRun("interception", IP, TproxyRouting.listIpRules(ipv6)).stdout();
            } catch (FirewallException e) {
                if (!ipv6) {
                    throw e;
                }
                LOG.debug("ip -6 rule unusable: {}", e.getMessage());
                continue;
            }
            for (String line : listed.lines().toList()) {
                if (TproxyRouting.isIpRule(line, mark, table)) {
                    commands.mustRun("interception", IP, TproxyRouting.deleteIpRule(mark, table, ipv6));
                }
            }
            CommandRunner.Result route = commands.run(IP, TproxyRouting.deleteLocalRoute(table, ipv6));
            if (!route.ok() && !TproxyRouting.noSuchRoute(route.stderr())) {
                throw Commands.failed("interception", route);
            }
        }
    }
}
