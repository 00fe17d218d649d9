package io.ftpgate.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.FtpClientTool;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.ProbeSession;
import io.ftpgate.testing.Testbed;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.TransferChecks;
import io.ftpgate.testing.VsftpdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Control experiment without ftpgate: the middle namespace only routes, and curl and lftp talk to
 * vsftpd directly. When this passes and a gateway test fails, the gateway is at fault, not the
 * namespaces, the server or the clients.
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DirectTransferIT {

    private Testbed testbed;
    private Topology topology;
    private TransferChecks checks;

    @BeforeAll
    void setUp() {
        testbed = Testbed.start(Topology.Kind.ROUTER, "curl", "lftp");
        topology = testbed.topology;
        checks = new TransferChecks(topology, testbed.server);
    }

    @AfterAll
    void tearDown() {
        Testbed.close(testbed);
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (FtpClientTool tool : List.of(new Curl(), new Lftp())) {
            for (FtpEndpoint server : List.of(new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT),
                    new FtpEndpoint(Topology.SERVER_V6, VsftpdServer.PORT))) {
                for (FtpMode mode : FtpMode.values()) {
                    if (tool.supports(mode, server.ipv6())) {
                        cases.add(Arguments.of(tool, server, mode));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {2} to {1}")
    @MethodSource("cases")
    void listRetrieveStore(FtpClientTool tool, FtpEndpoint server, FtpMode mode) {
        String tag = "direct-" + tool.name() + "-" + (server.ipv6() ? "v6" : "v4") + "-" + mode;
        checks.list(tool, server, mode);
        checks.retrieve(tool, server, mode, tag);
        checks.store(tool, server, mode, tag);
    }

    @Test
    void probeReachesTheAnnouncedPassivePort() {
        try (ProbeSession probe = ProbeSession.open(topology, new FtpEndpoint(Topology.SERVER_V4, VsftpdServer.PORT))) {
            int port = ProbeSession.announcedPort(probe.command("PASV"));
            assertThat(probe.connect(Topology.CLIENT_V4, Topology.SERVER_V4, port)).isEqualTo("CONNECTED");
            assertThat(probe.command("NOOP")).startsWith("200");
        }
    }
}
