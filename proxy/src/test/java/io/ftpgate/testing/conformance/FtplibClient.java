package io.ftpgate.testing.conformance;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

/**
 * Python's ftplib (Debian's {@code /usr/bin/python3}), every operation in one control session run
 * by {@code conformance/ftplib_session.py}: all four modes on IPv4 (a subclass forces EPSV and
 * EPRT, which ftplib itself uses on IPv6 only, and trusts the 227 address), EPSV and EPRT on IPv6.
 * ABOR: {@code FTP.abort()}, which sends the command as urgent data ({@code MSG_OOB}).
 */
public final class FtplibClient implements ConformanceClient {

    public static final String PYTHON = "/usr/bin/python3";
    private static final Pattern RESULT = Pattern.compile("^RESULT (\\w+) (ok|fail)(?: (.*))?$", Pattern.MULTILINE);

    @Override
    public String name() {
        return "ftplib";
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        return mode.usableOver(ipv6Control);
    }

    @Override
    public Optional<String> cannot(Operation op) {
        return Optional.empty();
    }

    @Override
    public Map<Operation, Outcome> run(Topology topology, FtpEndpoint endpoint, FtpMode mode, SessionFiles files, List<Operation> ops) {
        List<String> argv = new ArrayList<>(List.of(PYTHON, script().toString(), endpoint.host(), String.valueOf(endpoint.port()),
                mode.name(), files.dir().toString()));
        for (Operation op : ops) {
            argv.add(switch (op) {
                case LIST -> "LIST";
                case RETR -> "RETR:" + VsftpdServer.BIG;
                case STOR -> "STOR:" + files.upload();
                case REST -> "REST:" + VsftpdServer.BIG;
                case ABOR -> "ABOR:" + SessionFiles.ABOR_REMOTE + ":" + VsftpdServer.SMALL;
            });
        }
        ExecResult result = topology.exec(topology.client, Duration.ofSeconds(90), argv.toArray(String[]::new));
        Map<Operation, Outcome> outcomes = new EnumMap<>(Operation.class);
        RESULT.matcher(result.stdout()).results().forEach(m -> outcomes.put(Operation.valueOf(m.group(1)),
                new Outcome(m.group(2).equals("ok"), m.group() + "\n" + result.describe())));
        for (Operation op : ops) {
            outcomes.putIfAbsent(op, new Outcome(false, "no result line for " + op + ":\n" + result.describe()));
        }
        return outcomes;
    }

    private static Path script() {
        try {
            return Path.of(FtplibClient.class.getResource("/conformance/ftplib_session.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
