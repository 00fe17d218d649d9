package io.ftpgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.Topology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Churn through the ipset backend to vsftpd (issue #10, "seen under churn"): {@link ChurnLoad}
 * runs mixed sessions in the client namespace — PASV, EPSV, PORT and EPRT; LIST and RETR; QUIT,
 * ABOR, clients that go away at connect (FIN or RST), after login or mid-transfer — and the
 * gateway's log is searched for what the issue saw: upstream connects failing, exceptions at a
 * pipeline's tail, {@code NotYetConnectedException}, {@code accept(..) failed}.
 *
 * <p>{@code -Dchurn.sessions=N} (default 6,000) and {@code -Dchurn.concurrency=N} (default 16).
 * Run alone: {@code mvn -B -pl proxy verify -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test=ChurnIT -Dchurn.sessions=12000}.
 */
@Tag("netns")
@Tag("churn")
class ChurnIT {
    private static final Pattern RESULT = Pattern.compile("RESULT sessions=(\\d+) failed=(\\d+) elapsed_ms=(\\d+)");
    /** What the issue saw in the gateway's log, by name. */
    private static final Map<String, String> SYMPTOMS = new LinkedHashMap<>();

    static {
        SYMPTOMS.put("upstream connect failed", "cannot reach upstream");
        SYMPTOMS.put("exception at a pipeline's tail", "reached at the tail of the pipeline");
        SYMPTOMS.put("NotYetConnectedException", "NotYetConnectedException");
        SYMPTOMS.put("accept(..) failed", "accept(..) failed");
        SYMPTOMS.put("ClosedChannelException", "ClosedChannelException");
        SYMPTOMS.put("internal error", "internal error");
    }

    @Test
    void mixedSessionsWithClientsGoingAwayLeaveNoUpstreamFailureAndNoExceptionAtATail() {
        RootTools.requireRootAndTools("ip", "ipset", "iptables", "vsftpd");
        int sessions = Integer.getInteger("churn.sessions", 6_000);
        int concurrency = Integer.getInteger("churn.concurrency", 16);
        long mib = 1024 * 1024;
        BenchOptions options = new BenchOptions("churn", 1, mib, mib, 1, concurrency, 100, false, List.of(0), 1,
                Path.of("target", "churn.md"), false, mib, false, false, false, null, 0, false);
        try (BenchSetup setup = BenchSetup.start(BenchSetup.Kind.FTPGATE_IPSET, options)) {
            assertThat(setup.unavailable).as("setup").isNull();
            ExecResult run = setup.topology.exec(setup.topology.client, Duration.ofMinutes(30),
                    Topology.JAVA, "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    ChurnLoad.class.getName(), setup.endpoint.host(), String.valueOf(setup.endpoint.port()),
                    Topology.CLIENT_V4, String.valueOf(sessions), String.valueOf(concurrency), BenchSetup.RETR_FILE);
            System.out.println(run.stdout());
            Matcher m = RESULT.matcher(run.stdout());
            assertThat(run.ok() && m.find()).as("churn driver: %s", run.describe()).isTrue();
            String log = setup.daemon.log();
            Map<String, Long> seen = new LinkedHashMap<>();
            SYMPTOMS.forEach((name, text) -> seen.put(name, log.lines().filter(l -> l.contains(text)).count()));
            System.out.println("CHURN sessions=" + m.group(1) + " failed=" + m.group(2) + " elapsed_ms=" + m.group(3)
                    + " gateway log: " + seen);
            log.lines().filter(l -> SYMPTOMS.values().stream().anyMatch(l::contains)).limit(20)
                    .forEach(l -> System.out.println("GATEWAY " + l));
            List<String> failures = run.stdout().lines().filter(l -> l.startsWith("FAILURE ")).toList();
            assertThat(seen.get("upstream connect failed")).as("upstream connects that failed").isZero();
            assertThat(seen.get("exception at a pipeline's tail")).as("exceptions at a pipeline's tail").isZero();
            assertThat(seen.get("internal error")).as("internal errors").isZero();
            assertThat(failures).as("sessions that failed, by type").isEmpty();
        }
    }
}
