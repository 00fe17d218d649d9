package io.ftpgate.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpGateDaemon;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.GatewayRules;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

/**
 * {@code data.path = kernel} on a gateway that routes with FORWARD policy DROP and no rule of the
 * admin's in FORWARD: curl and lftp move files in PASV and EPSV, IPv4 and IPv6, and the bytes
 * never pass ftpgate (its relayed-bytes counter stays at zero, the transfer log line says
 * {@code path=kernel}, and the byte counter of ftpgate's static FORWARD rule grows by the file).
 * conntrack shows the translated flow. A lease admits exactly one connection; the deadline removes unused rules; a connection made
 * goes on after its rules are gone; a mixed-family session is relayed; PORT/EPRT kept active
 * towards the server are forwarded too; a gateway that does not route relays (and says so);
 * stop and a restart after {@code kill -9} leave nothing behind.
 */
@Tag("netns")
class KernelPathIT {

    static final String SETTINGS = FtpGateDaemon.config("  data.path = kernel");
    /** The byte counter of ftpgate's static FORWARD rule in {@code iptables -S -v}. */
    private static final Pattern STATIC_RULE_BYTES = Pattern.compile("ftpgate kernel path\" -c \\d+ (\\d+)");

    enum Op { LIST, RETR, STOR }

    /** One testbed (routing gateway, vsftpd, ftpgate with {@code settings}) for a nested class's tests. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(60)
    abstract static class DaemonRun {
        private final String settings;
        Testbed testbed;
        TransferChecks checks;

        DaemonRun(String settings) {
            this.settings = settings;
        }

        @BeforeAll
        void setUp() {
            testbed = Testbed.start(Topology.Kind.FORWARDING_GATEWAY, settings, false, "curl", "lftp", "conntrack");
            checks = new TransferChecks(testbed.topology, testbed.server);
        }

        @AfterAll
        void tearDown() {
            Testbed.close(testbed);
        }

        @AfterEach
        void noLeaseRuleLeftAndGatewayAlive() {
            testbed.rules.awaitNoLeasesAnywhere();
            testbed.gateway.assertAlive();
        }

        void transfer(FtpClientTool tool, FtpEndpoint endpoint, FtpMode mode, Op op, String tag) {
            switch (op) {
                case LIST -> checks.list(tool, endpoint, mode);
                case RETR -> checks.retrieve(tool, endpoint, mode, tag);
                case STOR -> checks.store(tool, endpoint, mode, tag);
            }
        }

        double metric(String series) {
            return KernelPathIT.metric(testbed, series);
        }
    }

    /** Every op with curl and lftp in {@code modes}, IPv4 and IPv6: family name, tool, mode, op, endpoint. */
    static Stream<Arguments> cases(List<FtpMode> modes) {
        List<Arguments> cases = new ArrayList<>();
        for (FtpEndpoint endpoint : List.of(FtpGateDaemon.V4, FtpGateDaemon.V6)) {
            for (FtpClientTool tool : List.of(new Curl(), new Lftp())) {
                for (FtpMode mode : modes) {
                    if (tool.supports(mode, endpoint.ipv6())) {
                        for (Op op : Op.values()) {
                            cases.add(Arguments.of(endpoint.ipv6() ? "IPv6" : "IPv4", tool, mode, op, endpoint));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    @Nested
    class Passive extends DaemonRun {

        Passive() {
            super(SETTINGS);
        }

        static Stream<Arguments> cases() {
            return KernelPathIT.cases(List.of(FtpMode.PASV, FtpMode.EPSV));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void transferIsForwardedByTheKernel(String family, FtpClientTool tool, FtpMode mode, Op op, FtpEndpoint endpoint) {
            String tag = "kernel-" + tool.name() + "-" + family + "-" + mode;
            long forwardedBefore = staticRuleBytes(endpoint.ipv6());
            double relayedBefore = metric("ftpgate_relayed_bytes_total");
            transfer(tool, endpoint, mode, op, tag);
            String verb = switch (op) {
                case LIST -> "LIST";
                case RETR -> "RETR";
                case STOR -> "STOR";
            };
            testbed.gateway.awaitLog(verb);
            assertThat(testbed.gateway.log()).as("the transfer log line")
                    .containsPattern("transfer client=\\S+ server=\\S+ \\w+ " + verb + " .* bytes=unknown .*path=kernel completed");
            assertThat(metric("ftpgate_relayed_bytes_total") - relayedBefore).as("bytes relayed by ftpgate").isZero();
            if (op != Op.LIST) {
                long bigFile = 3L * 1024 * 1024;
                assertThat(staticRuleBytes(endpoint.ipv6()) - forwardedBefore)
                        .as("bytes the kernel forwarded under ftpgate's static FORWARD rule").isGreaterThan(bigFile);
            }
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("io.ftpgate.e2e.KernelPathIT#passiveProbes")
        void aLeaseAdmitsOneConnectionOnly(String name, FtpEndpoint endpoint, String verb, String client, String third) {
            try (ProbeSession probe = ProbeSession.open(testbed.topology, endpoint)) {
                String reply = probe.command(verb);
                int port = ProbeSession.announcedPort(reply);
                assertThat(testbed.rules.leaseRulesAnywhere()).as("the lease's rules (FORWARD, SNAT, one-shot, DNAT)").hasSize(4);
                assertThat(probe.connect(third, endpoint.host(), port)).as("a third host").startsWith("FAILED");
                assertThat(probe.open(client, endpoint.host(), port)).as("the client's first connection").isEqualTo("CONNECTED");
                // conntrack: sent to the gateway's port, answered by the server to the gateway's server-side address.
                String flows = testbed.topology.exec(testbed.topology.gateway, "conntrack", "-L", "-p", "tcp",
                        "--orig-dst", endpoint.host(), "--orig-port-dst", String.valueOf(port)).orThrow().stdout();
                String server = endpoint.ipv6() ? Topology.SERVER_V6 : Topology.SERVER_V4;
                String gatewayServerSide = endpoint.ipv6() ? Topology.GATEWAY_SERVER_SIDE_V6 : Topology.GATEWAY_SERVER_SIDE_V4;
                assertThat(flows.lines().toList()).as("conntrack's flows to port %d", port).singleElement(as(STRING))
                        .contains("src=" + client + " dst=" + endpoint.host(), "dport=" + port,
                                "src=" + server + " dst=" + gatewayServerSide);
                assertThat(probe.connect(client, endpoint.host(), port)).as("the client's second connection to port %d", port)
                        .startsWith("FAILED").contains("timed out");
                assertThat(probe.retrieve(VsftpdServer.BIG)).as("RETR over the first connection")
                        .startsWith("RETRIEVED " + 3 * 1024 * 1024 + " " + TransferChecks.sha256(testbed.server.root().resolve(VsftpdServer.BIG))
                                + " 226");
            }
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("io.ftpgate.e2e.KernelPathIT#passiveProbes")
        void deadlineRemovesUnusedRules(String name, FtpEndpoint endpoint, String verb, String client, String third) {
            try (ProbeSession probe = ProbeSession.open(testbed.topology, endpoint)) {
                int port = ProbeSession.announcedPort(probe.command(verb));
                assertThat(testbed.rules.leaseRulesAnywhere()).as("rules while the connection is pending").hasSize(4);
                // data.connect-timeout is 3 s in the generated config.
                await("rules removed after data.connect-timeout").atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(testbed.rules.leaseRulesAnywhere()).isEmpty());
                assertThat(probe.connect(client, endpoint.host(), port)).as("the client after the deadline").startsWith("FAILED");
                assertThat(probe.command("NOOP")).as("the session survives the deadline").startsWith("200");
            }
        }

        /** The deadline ends the lease; the connection made before it goes on, carried by conntrack. */
        @ParameterizedTest(name = "{0}")
        @MethodSource("io.ftpgate.e2e.KernelPathIT#passiveProbes")
        void aConnectionMadeOutlivesItsRules(String name, FtpEndpoint endpoint, String verb, String client, String third) {
            try (ProbeSession probe = ProbeSession.open(testbed.topology, endpoint)) {
                int port = ProbeSession.announcedPort(probe.command(verb));
                assertThat(probe.open(client, endpoint.host(), port)).isEqualTo("CONNECTED");
                await("rules removed after data.connect-timeout").atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(testbed.rules.leaseRulesAnywhere()).isEmpty());
                assertThat(probe.retrieve(VsftpdServer.BIG)).as("RETR after the rules are gone")
                        .startsWith("RETRIEVED " + 3 * 1024 * 1024 + " " + TransferChecks.sha256(testbed.server.root().resolve(VsftpdServer.BIG))
                                + " 226");
            }
        }

        @Test
        void aMixedFamilySessionIsRelayed() {
            double relayedBefore = metric("ftpgate_data_paths_total{path=\"relay\"}");
            checks.retrieve(new Curl(), FtpGateDaemon.V6_TO_V4, FtpMode.EPSV, "kernel-mixed");
            assertThat(metric("ftpgate_data_paths_total{path=\"relay\"}") - relayedBefore).as("relayed data connections").isEqualTo(1);
            assertThat(metric("ftpgate_relayed_bytes_total")).as("bytes relayed").isGreaterThan(0);
        }

        private long staticRuleBytes(boolean ipv6) {
            String listed = testbed.topology.exec(testbed.topology.gateway, ipv6 ? "ip6tables" : "iptables", "-w", "-S", "FTPGATE-FWD", "-v")
                    .orThrow().stdout();
            Matcher m = STATIC_RULE_BYTES.matcher(listed);
            assertThat(m.find()).as("ftpgate's static FORWARD rule in:\n%s", listed).isTrue();
            return Long.parseLong(m.group(1));
        }
    }

    /**
     * {@code data.active-to-passive = false}: a client's PORT/EPRT stays active towards the server,
     * and the kernel forwards the server's connection to the client.
     */
    @Nested
    class Active extends DaemonRun {

        Active() {
            super(FtpGateDaemon.config("  data.path = kernel\n  data.active-to-passive = false"));
        }

        static Stream<Arguments> cases() {
            return KernelPathIT.cases(List.of(FtpMode.PORT, FtpMode.EPRT));
        }

        @ParameterizedTest(name = "{0}: {1} {3} in {2}")
        @MethodSource("cases")
        void activeTransferIsForwardedByTheKernel(String family, FtpClientTool tool, FtpMode mode, Op op, FtpEndpoint endpoint) {
            String tag = "kernel-active-" + tool.name() + "-" + family + "-" + mode;
            double relayedBefore = metric("ftpgate_relayed_bytes_total");
            double kernelBefore = metric("ftpgate_data_paths_total{path=\"kernel\"}");
            transfer(tool, endpoint, mode, op, tag);
            await("the data connection counted").atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(metric("ftpgate_data_paths_total{path=\"kernel\"}") - kernelBefore)
                            .as("data connections forwarded by the kernel").isEqualTo(1));
            assertThat(metric("ftpgate_relayed_bytes_total") - relayedBefore).as("bytes relayed by ftpgate").isZero();
        }
    }

    /** The sum of the series' values on ftpgate's metrics endpoint (0 if absent). */
    static double metric(Testbed testbed, String series) {
        String text = testbed.topology.exec(testbed.topology.gateway, "curl", "-sS", "http://127.0.0.1:9121/metrics").orThrow().stdout();
        String prefix = series.contains("{") ? series.substring(0, series.length() - 1) : series;
        return text.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .mapToDouble(Double::parseDouble).sum();
    }

    static Stream<Arguments> passiveProbes() {
        return Stream.of(
                Arguments.of("IPv4 PASV", FtpGateDaemon.V4, "PASV", Topology.CLIENT_V4, Topology.THIRD_V4),
                Arguments.of("IPv4 EPSV", FtpGateDaemon.V4, "EPSV", Topology.CLIENT_V4, Topology.THIRD_V4),
                Arguments.of("IPv6 EPSV", FtpGateDaemon.V6, "EPSV", Topology.CLIENT_V6, Topology.THIRD_V6));
    }

    /** On a gateway that does not route, {@code data.path = kernel} says so at start and relays. */
    @Test
    @Timeout(60)
    void aGatewayThatDoesNotRouteRelays() {
        try (Testbed testbed = Testbed.start(Topology.Kind.GATEWAY, SETTINGS, false, "curl")) {
            assertThat(testbed.gateway.log()).as("the log at start")
                    .contains("data.path = kernel, but /proc/sys/net/ipv4/ip_forward is not 1")
                    .contains("data.path = kernel, but /proc/sys/net/ipv6/conf/all/forwarding is not 1");
            new TransferChecks(testbed.topology, testbed.server).retrieve(new Curl(), FtpGateDaemon.V4, FtpMode.EPSV, "not-routing");
            await("the data connection counted").atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(metric(testbed, "ftpgate_data_paths_total{path=\"relay\"}")).as("relayed data connections").isEqualTo(1));
            assertThat(metric(testbed, "ftpgate_data_paths_total{path=\"kernel\"}")).as("kernel-path data connections").isZero();
        }
    }

    /** SIGTERM with a lease pending, and a restart after SIGKILL: nothing of ftpgate's stays. */
    @Test
    @Timeout(90)
    void stopAndCrashLeaveNothingBehind() {
        try (Testbed testbed = Testbed.start(Topology.Kind.FORWARDING_GATEWAY, SETTINGS, false)) {
            GatewayRules rules = testbed.rules;
            assertThat(rules.saved()).as("the kernel path's chains while ftpgate runs").contains("FTPGATE-DNAT", "FTPGATE-SNAT", "FTPGATE-FWD");
            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V4)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                testbed.gateway.kill();
            }
            assertThat(rules.leaseRulesAnywhere()).as("the lease a crashed ftpgate left behind").hasSize(4);

            FtpGateDaemon restarted = FtpGateDaemon.start(testbed.topology, SETTINGS);
            assertThat(rules.leaseRulesAnywhere()).as("lease rules after the restart, log:\n%s", restarted.log()).isEmpty();
            assertThat(restarted.log()).contains("removed 1 lease(s) left by an earlier run");

            try (ProbeSession probe = ProbeSession.open(testbed.topology, FtpGateDaemon.V6)) {
                assertThat(probe.command("EPSV")).startsWith("229");
                assertThat(rules.leaseRulesAnywhere()).as("a pending IPv6 lease").hasSize(4);
                int exit = restarted.stop();
                assertThat(exit).as("exit code after SIGTERM, log:\n%s", restarted.log()).isIn(0, 143);
            }
            assertThat(rules.leftovers(100)).as("ftpgate's objects after SIGTERM").isEmpty();
        }
    }
}
