package io.ftpgate.testing;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Reads the gateway namespace's firewall as ftpgate left it, for both IP families. */
public final class GatewayRules {

    public static final String CHAIN = "FTPGATE-IN";

    private final Topology topology;

    public GatewayRules(Topology topology) {
        this.topology = topology;
    }

    /** The {@code -A} lines of ftpgate's chain in iptables and ip6tables; none if the chain is missing. */
    public List<String> leases() {
        return Stream.of("iptables", "ip6tables")
                .flatMap(tool -> topology.exec(topology.gateway, tool, "-w", "-S", CHAIN).stdout().lines())
                .filter(line -> line.startsWith("-A "))
                .toList();
    }

    /** Waits up to 5 s for the chain to be empty: a lease is revoked asynchronously after its connection arrives. */
    public void awaitNoLeases() {
        await("no lease left in " + CHAIN).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(leases()).as("rules in %s", CHAIN).isEmpty());
    }

    /** {@code iptables-save} followed by {@code ip6tables-save}. */
    public String saved() {
        return topology.exec(topology.gateway, "iptables-save").orThrow().stdout()
                + topology.exec(topology.gateway, "ip6tables-save").orThrow().stdout();
    }
}
