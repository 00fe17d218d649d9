package io.ftpgate.bench;

import io.ftpgate.testing.EmbeddedFtpServer;
import io.ftpgate.testing.GatewayUnderTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One session's timeline, step by step, straight to an FTP server and through ftpgate, on loopback
 * in one JVM: connect to the greeting, USER, PASS, PASV, LIST (150, the listing to its end, 226),
 * QUIT. Sessions alternate between the two paths; each step's p50 and p99 (µs) are printed with the
 * difference, i.e. what the gateway adds to that step. The firewall is the recording one, so this
 * is the gateway's own cost, not a backend's. Run it under JFR to see where the time goes:
 *
 * <pre>java -XX:StartFlightRecording=filename=t.jfr -cp test-classpath io.ftpgate.bench.ControlTimeline 2000 [relay]</pre>
 */
public final class ControlTimeline {
    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");
    private static final String[] STEPS = {"greeting", "USER", "PASS", "PASV", "LIST 150", "LIST data", "226", "QUIT"};

    public static void main(String[] args) throws Exception {
        int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        String relay = args.length > 1 ? args[1] : "copy";
        Path root = Files.createTempDirectory("timeline");
        EmbeddedFtpServer.sampleRoot(root, 1024);
        try (EmbeddedFtpServer server = new EmbeddedFtpServer(root, "127.0.0.1", true);
             GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", "127.0.0.1:" + server.port(),
                     Map.of("ftpgate.data.relay", relay))) {
            InetSocketAddress direct = new InetSocketAddress("127.0.0.1", server.port());
            InetSocketAddress via = gw.address();
            for (int i = 0; i < sessions / 4; i++) { // warm-up, not recorded
                session(direct);
                session(via);
            }
            long[][] d = new long[STEPS.length][sessions];
            long[][] g = new long[STEPS.length][sessions];
            long[] totalD = new long[sessions];
            long[] totalG = new long[sessions];
            for (int i = 0; i < sessions; i++) {
                long[] a = session(direct);
                long[] b = session(via);
                for (int s = 0; s < STEPS.length; s++) {
                    d[s][i] = a[s];
                    g[s][i] = b[s];
                    totalD[i] += a[s];
                    totalG[i] += b[s];
                }
            }
            System.out.printf(Locale.ROOT, "%d sessions each, data.relay = %s, µs%n", sessions, relay);
            System.out.printf(Locale.ROOT, "%-10s %9s %9s %9s %9s %9s%n", "step", "direct50", "gw50", "added50", "direct99", "gw99");
            for (int s = 0; s < STEPS.length; s++) {
                row(STEPS[s], d[s], g[s]);
            }
            row("session", totalD, totalG);
        }
    }

    private static void row(String name, long[] d, long[] g) {
        long d50 = pct(d, 50), g50 = pct(g, 50);
        System.out.printf(Locale.ROOT, "%-10s %9d %9d %9d %9d %9d%n", name, d50, g50, g50 - d50, pct(d, 99), pct(g, 99));
    }

    private static long pct(long[] v, int p) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)] / 1000;
    }

    /** One session; returns each step's duration in ns. */
    static long[] session(InetSocketAddress to) throws IOException {
        long[] t = new long[STEPS.length];
        long t0 = System.nanoTime();
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(to);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            expect(in, "220");
            long t1 = System.nanoTime();
            t[0] = t1 - t0;
            t[1] = step(in, out, "USER anonymous", "331");
            t[2] = step(in, out, "PASS x", "230");
            long p0 = System.nanoTime();
            String pasv = command(in, out, "PASV", "227");
            t[3] = System.nanoTime() - p0;
            Matcher m = PASV.matcher(pasv);
            if (!m.find()) {
                throw new IOException("no address in " + pasv);
            }
            int port = Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6));
            long l0 = System.nanoTime();
            try (Socket data = new Socket()) {
                data.setTcpNoDelay(true);
                data.connect(new InetSocketAddress(to.getAddress(), port));
                command(in, out, "LIST", "150");
                long l1 = System.nanoTime();
                t[4] = l1 - l0;
                InputStream din = data.getInputStream();
                byte[] buf = new byte[8192];
                while (din.read(buf) >= 0) {
                    // the listing, to its end
                }
                long l2 = System.nanoTime();
                t[5] = l2 - l1;
                expect(in, "226");
                t[6] = System.nanoTime() - l2;
            }
            t[7] = step(in, out, "QUIT", "221");
        }
        return t;
    }

    private static long step(BufferedReader in, OutputStream out, String line, String code) throws IOException {
        long a = System.nanoTime();
        command(in, out, line, code);
        return System.nanoTime() - a;
    }

    private static String command(BufferedReader in, OutputStream out, String line, String code) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return expect(in, code);
    }

    /** Reads one reply (multi-line too) and checks its code. */
    private static String expect(BufferedReader in, String code) throws IOException {
        List<String> lines = new ArrayList<>();
        String l = in.readLine();
        if (l == null) {
            throw new IOException("closed, expected " + code);
        }
        lines.add(l);
        if (l.length() > 3 && l.charAt(3) == '-') {
            String end = l.substring(0, 3) + " ";
            do {
                l = in.readLine();
                if (l == null) {
                    throw new IOException("closed in a multi-line reply");
                }
                lines.add(l);
            } while (!l.startsWith(end));
        }
        if (!lines.get(0).startsWith(code)) {
            throw new IOException("expected " + code + ", got " + lines);
        }
        return String.join("\n", lines);
    }

    private ControlTimeline() {
    }
}
