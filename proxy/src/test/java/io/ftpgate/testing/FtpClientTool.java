package io.ftpgate.testing;

import java.nio.file.Path;

/**
 * A real FTP client program run in the client namespace. Each call is one control session (login
 * as anonymous, one command, quit) in the given mode; the result carries what the user saw.
 */
public interface FtpClientTool {

    String name();

    /** Whether this program can be made to use {@code mode} on a control connection of that family. */
    boolean supports(FtpMode mode, boolean ipv6Control);

    /** LIST of the root directory; the listing is on stdout. */
    ExecResult list(Topology topology, FtpEndpoint endpoint, FtpMode mode);

    ExecResult retrieve(Topology topology, FtpEndpoint endpoint, FtpMode mode, String remote, Path local);

    ExecResult store(Topology topology, FtpEndpoint endpoint, FtpMode mode, Path local, String remote);

    /** The client's own address of the control connection's family, for active mode. */
    static String clientAddress(FtpEndpoint endpoint) {
        return endpoint.ipv6() ? Topology.CLIENT_V6 : Topology.CLIENT_V4;
    }
}
