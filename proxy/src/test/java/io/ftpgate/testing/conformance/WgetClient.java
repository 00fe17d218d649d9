package io.ftpgate.testing.conformance;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

/**
 * GNU Wget, one invocation (one control session) per operation. Passive by default,
 * {@code --no-passive-ftp} for active; Wget picks the command by the control connection's family
 * and has no switch for it: PASV and PORT over IPv4, EPSV and EPRT over IPv6. LIST: the raw listing
 * is kept as {@code .listing} in the working directory ({@code --no-remove-listing}); REST:
 * {@code -c} continues the partial file of the same name. Wget downloads only (no STOR) and never
 * aborts a transfer.
 */
public final class WgetClient implements ConformanceClient {

    @Override
    public String name() {
        return "wget";
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        return switch (mode) {
            case PASV, PORT -> !ipv6Control;
            case EPSV, EPRT -> ipv6Control;
        };
    }

    @Override
    public Optional<String> cannot(Operation op) {
        return switch (op) {
            case STOR -> Optional.of("wget only downloads");
            case ABOR -> Optional.of("wget never aborts a transfer");
            case LIST, RETR, REST -> Optional.empty();
        };
    }

    @Override
    public Map<Operation, Outcome> run(Topology topology, FtpEndpoint endpoint, FtpMode mode, SessionFiles files, List<Operation> ops) {
        Map<Operation, Outcome> outcomes = new EnumMap<>(Operation.class);
        String base = "ftp://" + endpoint.authority() + "/";
        for (Operation op : ops) {
            List<String> what = switch (op) {
                case LIST -> List.of("--no-remove-listing", "-O", files.dir().resolve("index.html").toString(), base);
                case RETR -> List.of("-O", files.retrLocal().toString(), base + VsftpdServer.BIG);
                case REST -> List.of("-c", "-P", files.restLocal().getParent().toString(), base + VsftpdServer.BIG);
                case STOR, ABOR -> throw new IllegalArgumentException(cannot(op).orElseThrow());
            };
            List<String> argv = new ArrayList<>(List.of("wget", "--tries=1", "--timeout=10", "--no-verbose", "--server-response"));
            if (!mode.passive()) {
                argv.add("--no-passive-ftp");
            }
            argv.addAll(what);
            // The listing lands in the working directory: run there.
            ExecResult result = topology.exec(topology.client, withDir(files, argv));
            if (op == Operation.LIST && result.ok()) {
                copyListing(files);
            }
            outcomes.put(op, new Outcome(result.ok(), result.describe()));
        }
        return outcomes;
    }

    private static String[] withDir(SessionFiles files, List<String> argv) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec \"$@\"", files.dir().toString()));
        command.addAll(argv);
        return command.toArray(String[]::new);
    }

    private static void copyListing(SessionFiles files) {
        try {
            java.nio.file.Files.copy(files.dir().resolve(".listing"), files.listLocal(),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
