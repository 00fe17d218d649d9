package io.ftpgate.testing.conformance;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;

/**
 * A real FTP client program in the client namespace, driven through the operations of the
 * conformance matrix. A client batches as many operations into one control session as it can;
 * each operation still gets an outcome of its own.
 */
public interface ConformanceClient {

    String name();

    /** Whether this program can be made to use {@code mode} on a control connection of that family. */
    boolean supports(FtpMode mode, boolean ipv6Control);

    /** Empty if this program can do {@code op}; else why not (shown as the reason of a skipped cell). */
    Optional<String> cannot(Operation op);

    /** Logs in anonymously at {@code endpoint} and runs {@code ops} in {@code mode}. */
    Map<Operation, Outcome> run(Topology topology, FtpEndpoint endpoint, FtpMode mode, SessionFiles files, List<Operation> ops);
}
