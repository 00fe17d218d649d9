package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load driver run as its own JVM in the client namespace (JDK only): {@code concurrency} threads
 * each run complete FTP sessions back to back for {@code seconds} — connect, USER anonymous, PASS,
 * PASV, LIST (read to the end), 226, QUIT — from {@code bind} to {@code host:port}; with a sixth
 * argument, {@code RETR} of that file (read to the end, its size checked) instead of LIST. Prints one line
 * {@code RESULT sessions=N errors=E elapsed_ms=T p50_ms=X p99_ms=Y}, one {@code STEPS p50_us ... p99_us ...} line
 * with each step's median and 99th percentile (connect to the greeting, each command to its reply, the data connection,
 * the data, the wait for the server's close after 221) and, if any failed, one
 * {@code FIRST_ERROR ...} line.
 *
 * <p>Arguments: host port bind seconds concurrency [file bytes].
 */
public final class SessionLoad {

    /** The steps of a session whose p50 the STEPS line gives (µs), in order. */
    private static final String[] STEPS = {"connect+220", "USER", "PASS", "PASV", "data-connect", "150", "data", "226",
        "QUIT", "close"};
    /** Per step, every session's duration (ns). */
    private static final List<List<Long>> STEP_TIMES = new ArrayList<>();

    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");

    private SessionLoad() {
    }

    public static void main(String[] args) throws InterruptedException {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        String bind = args[2];
        long seconds = Long.parseLong(args[3]);
        int concurrency = Integer.parseInt(args[4]);
        String file = args.length > 5 ? args[5] : null;
        long fileBytes = args.length > 6 ? Long.parseLong(args[6]) : -1;

        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < STEPS.length; i++) {
            STEP_TIMES.add(Collections.synchronizedList(new ArrayList<>()));
        }
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Thread thread = new Thread(() -> {
                while (System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    try {
                        session(server, bind, file, fileBytes);
                        latencies.add(System.nanoTime() - t0);
                    } catch (IOException | RuntimeException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                    }
                }
            }, "session-" + i);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        long elapsed = System.nanoTime() - start;
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        System.out.printf("RESULT sessions=%d errors=%d elapsed_ms=%.1f p50_ms=%.3f p99_ms=%.3f%n",
                sorted.size(), errors.get(), elapsed / 1e6, percentile(sorted, 0.50), percentile(sorted, 0.99));
        StringBuilder steps = new StringBuilder("STEPS p50_us");
        StringBuilder tail = new StringBuilder(" p99_us");
        for (int i = 0; i < STEPS.length; i++) {
            List<Long> times = new ArrayList<>(STEP_TIMES.get(i));
            Collections.sort(times);
            steps.append(' ').append(STEPS[i]).append('=').append(Math.round(percentile(times, 0.50) * 1000));
            tail.append(' ').append(STEPS[i]).append('=').append(Math.round(percentile(times, 0.99) * 1000));
        }
        System.out.println(steps.append(tail));
        if (firstError.get() != null) {
            System.out.println("FIRST_ERROR " + firstError.get());
        }
    }

    private static double percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1);
        return sorted.get(Math.max(0, index)) / 1e6;
    }

    /** One session: LIST, or with {@code file} RETR of it, which must be {@code fileBytes} long. */
    private static void session(InetSocketAddress server, String bind, String file, long fileBytes) throws IOException {
        long[] mark = {System.nanoTime()};
        long[] times = new long[STEPS.length];
        try (Socket control = new Socket()) {
            control.bind(new InetSocketAddress(bind, 0));
            control.connect(server, 5_000);
            control.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = control.getOutputStream();
            expect(readReply(in), "220");
            step(times, 0, mark);
            String user = send(out, in, "USER anonymous");
            step(times, 1, mark);
            if (!user.startsWith("230")) {
                expect(user, "331");
                expect(send(out, in, "PASS bench@"), "230");
                step(times, 2, mark);
            }
            String pasv = send(out, in, "PASV");
            expect(pasv, "227");
            step(times, 3, mark);
            Matcher m = PASV.matcher(pasv);
            if (!m.find()) {
                throw new IOException("no address in " + pasv);
            }
            String host = m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4);
            int port = Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6));
            try (Socket data = new Socket()) {
                data.bind(new InetSocketAddress(bind, 0));
                data.connect(new InetSocketAddress(host, port), 5_000);
                data.setSoTimeout(10_000);
                step(times, 4, mark);
                String command = file == null ? "LIST" : "RETR " + file;
                String started = send(out, in, command);
                if (!started.startsWith("150") && !started.startsWith("125")) {
                    throw new IOException(command + " answered " + started);
                }
                step(times, 5, mark);
                InputStream listing = data.getInputStream();
                byte[] buffer = new byte[65536];
                long received = 0;
                int n;
                while ((n = listing.read(buffer)) >= 0) {
                    received += n; // the bytes themselves do not matter, only that they arrive in full
                }
                if (file != null && received != fileBytes) {
                    throw new IOException(command + ": " + received + " bytes, not " + fileBytes);
                }
                step(times, 6, mark);
            }
            expect(readReply(in), "226");
            step(times, 7, mark);
            expect(send(out, in, "QUIT"), "221");
            step(times, 8, mark);
            // Wait for the server's close, so TIME_WAIT stays on the server side, not on ours.
            while (in.read() >= 0) {
                // drain
            }
            step(times, 9, mark);
        }
        for (int i = 0; i < STEPS.length; i++) {
            STEP_TIMES.get(i).add(times[i]);
        }
    }

    private static void step(long[] times, int step, long[] mark) {
        long now = System.nanoTime();
        times[step] = now - mark[0];
        mark[0] = now;
    }

    private static void expect(String reply, String code) throws IOException {
        if (!reply.startsWith(code)) {
            throw new IOException("expected " + code + ", got " + reply);
        }
    }

    private static String send(OutputStream out, BufferedReader in, String command) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return readReply(in);
    }

    /** The last line of a reply; multi-line replies end with "ddd " (RFC 959 §4.2). */
    static String readReply(BufferedReader in) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("connection closed before a reply");
        }
        if (line.length() >= 4 && line.charAt(3) == '-') {
            String end = line.substring(0, 3) + " ";
            while (line != null && !line.startsWith(end)) {
                line = in.readLine();
            }
            if (line == null) {
                throw new IOException("connection closed within a multi-line reply");
            }
        }
        return line;
    }
}
