package io.ftpgate.testing.conformance;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.ftpgate.testing.Curl;
import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

/**
 * curl, one invocation (one control session) per operation, in the modes of {@link Curl}. REST:
 * {@code -C -} continues the partial local file. curl never sends ABOR: it closes a data
 * connection it no longer wants and waits for the transfer's reply instead.
 */
public final class CurlClient implements ConformanceClient {

    @Override
    public String name() {
        return "curl";
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        return new Curl().supports(mode, ipv6Control);
    }

    @Override
    public Optional<String> cannot(Operation op) {
        return op == Operation.ABOR
                ? Optional.of("curl never sends ABOR (it closes the data connection early; GatewayTransferIT covers that)")
                : Optional.empty();
    }

    @Override
    public Map<Operation, Outcome> run(Topology topology, FtpEndpoint endpoint, FtpMode mode, SessionFiles files, List<Operation> ops) {
        Map<Operation, Outcome> outcomes = new EnumMap<>(Operation.class);
        for (Operation op : ops) {
            List<String> what = switch (op) {
                case LIST -> List.of("-o", files.listLocal().toString(), url(endpoint, ""));
                case RETR -> List.of("-o", files.retrLocal().toString(), url(endpoint, VsftpdServer.BIG));
                case STOR -> List.of("-T", files.storSource().toString(), url(endpoint, files.upload()));
                case REST -> List.of("-C", "-", "-o", files.restLocal().toString(), url(endpoint, VsftpdServer.BIG));
                case ABOR -> throw new IllegalArgumentException(cannot(op).orElseThrow());
            };
            List<String> argv = new ArrayList<>(List.of("curl", "-sS", "-v", "--max-time", "20", "--connect-timeout", "5"));
            argv.addAll(Curl.modeArguments(endpoint, mode));
            argv.addAll(what);
            ExecResult result = topology.exec(topology.client, argv.toArray(String[]::new));
            outcomes.put(op, new Outcome(result.ok(), result.describe()));
        }
        return outcomes;
    }

    private static String url(FtpEndpoint endpoint, String path) {
        return "ftp://" + endpoint.authority() + "/" + path;
    }
}
