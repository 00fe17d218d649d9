package io.ftpgate.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * curl as FTP client. Passive: {@code --ftp-pasv}, {@code --disable-epsv} for PASV; active:
 * {@code -P <own address>} sends EPRT, {@code --disable-eprt} forces PORT. The address in a 227
 * reply is used as announced ({@code --no-ftp-skip-pasv-ip}), so a wrong rewrite shows, unless
 * the instance is {@link #ignoringPasvAddress()}: curl's own default, which connects to the control
 * connection's address whatever the 227 says. The control dialogue ({@code -v}) is on stderr.
 */
public final class Curl implements FtpClientTool {

    private final boolean usePasvAddress;

    public Curl() {
        this(true);
    }

    private Curl(boolean usePasvAddress) {
        this.usePasvAddress = usePasvAddress;
    }

    /** curl as installed: in PASV it ignores the 227 address ({@code --ftp-skip-pasv-ip}). */
    public static Curl ignoringPasvAddress() {
        return new Curl(false);
    }

    @Override
    public String name() {
        return usePasvAddress ? "curl" : "curl-skip-pasv-ip";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        return mode.usableOver(ipv6Control);
    }

    @Override
    public ExecResult list(Topology topology, FtpEndpoint endpoint, FtpMode mode) {
        return run(topology, endpoint, mode, List.of(url(endpoint, "")));
    }

    @Override
    public ExecResult retrieve(Topology topology, FtpEndpoint endpoint, FtpMode mode, String remote, Path local) {
        return run(topology, endpoint, mode, List.of("-o", local.toString(), url(endpoint, remote)));
    }

    @Override
    public ExecResult store(Topology topology, FtpEndpoint endpoint, FtpMode mode, Path local, String remote) {
        return run(topology, endpoint, mode, List.of("-T", local.toString(), url(endpoint, remote)));
    }

    /**
     * The URL of {@code path}; a user other than anonymous goes into it percent-encoded, since
     * {@code --user} would split {@code anonymous@[2001:db8:2::2]} at its first colon.
     */
    static String url(FtpEndpoint endpoint, String path) {
        String login = endpoint.user().equals(FtpEndpoint.ANONYMOUS) ? "" : percentEncode(endpoint.user()) + ":curl%40@";
        return "ftp://" + login + endpoint.authority() + "/" + path;
    }

    private static String percentEncode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    /**
     * curl 7.88 fails on {@code -P <IPv6 literal>} ("sa_addr inet_ntop() failed with errno 97"),
     * so on IPv6 it is told {@code -}: the local address of the control connection, the same one.
     */
    private static String activeAddress(FtpEndpoint endpoint) {
        return endpoint.ipv6() ? "-" : FtpClientTool.clientAddress(endpoint);
    }

    /**
     * Downloads bytes {@code first..last} of {@code remote}: curl sends REST and closes the data
     * connection once it has them, mid-transfer, then expects the server's 426 or 226.
     */
    public ExecResult retrieveRange(Topology topology, FtpEndpoint endpoint, FtpMode mode, String remote, Path local,
                                    long first, long last) {
        return run(topology, endpoint, mode,
                List.of("-r", first + "-" + last, "-o", local.toString(), "ftp://" + endpoint.authority() + "/" + remote));
    }

    /** The curl options that make it use {@code mode} on a control connection to {@code endpoint}. */
    public static List<String> modeArguments(FtpEndpoint endpoint, FtpMode mode) {
        return switch (mode) {
            case PASV -> List.of("--ftp-pasv", "--disable-epsv", "--no-ftp-skip-pasv-ip");
            case EPSV -> List.of("--ftp-pasv");
            case PORT -> List.of("-P", activeAddress(endpoint), "--disable-eprt");
            case EPRT -> List.of("-P", activeAddress(endpoint));
        };
    }

    private ExecResult run(Topology topology, FtpEndpoint endpoint, FtpMode mode, List<String> what) {
        // -v: the control dialogue goes to stderr, so a test can read the 227/229 the client saw.
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "-v", "--max-time", "20", "--connect-timeout", "5"));
        modeArguments(endpoint, mode).stream()
                .map(a -> !usePasvAddress && a.equals("--no-ftp-skip-pasv-ip") ? "--ftp-skip-pasv-ip" : a)
                .forEach(argv::add);
        argv.addAll(what);
        return topology.exec(topology.client, argv.toArray(String[]::new));
    }
}
