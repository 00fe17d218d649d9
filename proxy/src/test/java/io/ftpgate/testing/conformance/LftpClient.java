package io.ftpgate.testing.conformance;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.FtpEndpoint;
import io.ftpgate.testing.FtpMode;
import io.ftpgate.testing.Lftp;
import io.ftpgate.testing.Topology;
import io.ftpgate.testing.VsftpdServer;

/**
 * lftp, every operation in one control session ({@code lftp -c}, modes as in {@link Lftp}); each
 * command echoes its own result line, and a failed one does not stop the script. REST:
 * {@code get -c}. ABOR: a rate-limited {@code get} of the 10 MiB file in the background, killed
 * after half a second ({@code kill all}: lftp sends ABOR, by default after Telnet IP and Synch), then
 * a {@code get} of the small file in the same session. The dialogue ({@code debug 5}) is on stderr.
 */
public final class LftpClient implements ConformanceClient {

    private static final Pattern RESULT = Pattern.compile("^@@RESULT (\\w+) (ok|fail)$", Pattern.MULTILINE);
    private static final Pattern FINAL_REPLY = Pattern.compile("^(?:\\S+ \\S+ )?<--- (\\d{3}) ");

    @Override
    public String name() {
        return "lftp";
    }

    @Override
    public boolean supports(FtpMode mode, boolean ipv6Control) {
        return new Lftp().supports(mode, ipv6Control);
    }

    @Override
    public Optional<String> cannot(Operation op) {
        return Optional.empty();
    }

    @Override
    public Map<Operation, Outcome> run(Topology topology, FtpEndpoint endpoint, FtpMode mode, SessionFiles files, List<Operation> ops) {
        List<String> script = new ArrayList<>(List.of(Lftp.preamble(endpoint, mode, false, 5)));
        for (Operation op : ops) {
            String command = switch (op) {
                case LIST -> "ls > " + files.listLocal();
                case RETR -> "get " + VsftpdServer.BIG + " -o " + files.retrLocal();
                case STOR -> "put " + files.storSource() + " -o " + files.upload();
                case REST -> "get -c " + VsftpdServer.BIG + " -o " + files.restLocal();
                // Small socket buffers and a slow read: the server (and a gateway's buffers) cannot
                // have sent the whole file when the job is killed, so ABOR meets a transfer in progress.
                case ABOR -> String.join("; ",
                        "set net:socket-buffer 32768",
                        "set net:limit-rate 1M",
                        "get " + SessionFiles.ABOR_REMOTE + " -o " + files.dir().resolve("aborted.part") + " &",
                        "sleep 0.5",
                        "kill all",
                        "set net:limit-rate 0",
                        "set net:socket-buffer 0",
                        "get " + VsftpdServer.SMALL + " -o " + files.againLocal());
            };
            script.add(command + " && echo '@@RESULT " + op + " ok' || echo '@@RESULT " + op + " fail'");
        }
        ExecResult result = topology.exec(topology.client, java.time.Duration.ofSeconds(90), "lftp", "-c", String.join("; ", script));
        Map<Operation, Outcome> outcomes = new EnumMap<>(Operation.class);
        RESULT.matcher(result.stdout()).results().forEach(m -> {
            Operation op = Operation.valueOf(m.group(1));
            boolean ok = m.group(2).equals("ok") && (op != Operation.ABOR || abortedInSession(result.stderr()));
            outcomes.put(op, new Outcome(ok, result.describe()));
        });
        for (Operation op : ops) {
            outcomes.putIfAbsent(op, new Outcome(false, "no result line for " + op + ":\n" + result.describe()));
        }
        return outcomes;
    }

    /**
     * Whether lftp sent ABOR, the last reply before its next command was 225 or 226 (after the
     * interrupted RETR's 426 or 226, RFC 959 §4.1.3), and no new control connection followed.
     */
    static boolean abortedInSession(String dialogue) {
        List<String> lines = dialogue.lines().toList();
        int abor = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("---> ABOR")) {
                abor = i;
            }
        }
        if (abor < 0) {
            return false;
        }
        String last = null;
        for (int i = abor + 1; i < lines.size() && !lines.get(i).contains("---> "); i++) {
            var m = FINAL_REPLY.matcher(lines.get(i));
            if (m.find()) {
                last = m.group(1);
            }
        }
        boolean reconnected = lines.subList(abor, lines.size()).stream().anyMatch(l -> l.contains("---- Connecting to "));
        return ("225".equals(last) || "226".equals(last)) && !reconnected;
    }
}
