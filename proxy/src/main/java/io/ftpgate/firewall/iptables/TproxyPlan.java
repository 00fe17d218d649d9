package io.ftpgate.firewall.iptables;

import io.ftpgate.firewall.Interception;
import io.ftpgate.firewall.iptables.IptablesRules.Hook;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides, purely, which commands make one address family's interception exactly what a spec
 * asks for, given what the host lists now: {@code iptables -t mangle -S}, {@code iptables -S} and
 * {@code ip rule show}. Against empty listings it gives every command (that is
 * {@code describeIntercept}); against a host already set up it gives only {@code ip route replace},
 * which is idempotent itself. The order activates last: chains and rules first, then routing, then
 * the PREROUTING jump.
 */
final class TproxyPlan {

    /** One command: which binary (an iptables flavour or ip) and its arguments. */
    record Command(String binary, List<String> args) {
        Command {
            args = List.copyOf(args);
        }
    }

    private final IptablesRules rules;
    private final TproxyRules tproxy;

    TproxyPlan(IptablesRules rules, TproxyRules tproxy) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.tproxy = Objects.requireNonNull(tproxy, "tproxy");
    }

    /**
     * @param iptables the family's iptables binary
     * @param ip the ip binary
     * @param mangle the lines of {@code -t mangle -S}
     * @param filter the lines of {@code -S} (the filter table)
     * @param ipRules the lines of {@code ip -4 rule show} (or {@code -6})
     */
    List<Command> plan(Interception spec, boolean ipv6, String iptables, String ip,
            List<String> mangle, List<String> filter, List<String> ipRules) {
        List<Command> plan = new ArrayList<>();
        String intercept = tproxy.interceptChain();
        String divert = tproxy.divertChain();
        if (!mangle.contains("-N " + intercept)) {
            plan.add(new Command(iptables, tproxy.newChain(intercept)));
        }
        if (!mangle.contains("-N " + divert)) {
            plan.add(new Command(iptables, tproxy.newChain(divert)));
        }
        List<List<String>> wanted = tproxy.appendInterceptRules(spec, ipv6);
        List<String> present = rulesOf(mangle, intercept);
        if (!present.equals(wanted.stream().map(TproxyRules::listed).toList())) {
            if (!present.isEmpty()) {
                plan.add(new Command(iptables, tproxy.flushChain(intercept)));
            }
            wanted.forEach(args -> plan.add(new Command(iptables, args)));
        }

        List<List<String>> accept = tproxy.insertAcceptRules(spec);
        List<String> inRules = rulesOf(filter, rules.chain(Hook.IN));
        List<Integer> ours = new ArrayList<>();
        for (int i = 0; i < inRules.size(); i++) {
            if (TproxyRules.isInterceptLine(inRules.get(i))) {
                ours.add(i + 1);
            }
        }
        boolean inPlace = inRules.size() >= accept.size()
                && inRules.subList(0, accept.size()).equals(accept.stream().map(TproxyRules::listed).toList())
                && ours.size() == accept.size();
        if (!inPlace) {
            for (int i = ours.size() - 1; i >= 0; i--) {
                plan.add(new Command(iptables, tproxy.deleteInRule(ours.get(i))));
            }
            accept.forEach(args -> plan.add(new Command(iptables, args)));
        }

        if (ipRules.stream().noneMatch(line -> TproxyRules.isIpRule(line, spec.mark(), spec.routingTable()))) {
            plan.add(new Command(ip, tproxy.addIpRule(spec.mark(), spec.routingTable(), ipv6)));
        }
        plan.add(new Command(ip, tproxy.replaceLocalRoute(spec.routingTable(), ipv6)));

        long jumps = mangle.stream().filter(tproxy.jumpLine()::equals).count();
        if (jumps == 0) {
            plan.add(new Command(iptables, tproxy.insertJump()));
        }
        for (long extra = 1; extra < jumps; extra++) {
            plan.add(new Command(iptables, tproxy.deleteJump()));
        }
        return plan;
    }

    /** The listed rules of one chain, in order. */
    static List<String> rulesOf(List<String> listing, String chain) {
        String prefix = "-A " + chain + " ";
        return listing.stream().filter(line -> line.startsWith(prefix)).toList();
    }
}
