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
 * PASV, LIST (read to the end), 226, QUIT — from {@code bind} to {@code host:port}. Prints one line
 * {@code RESULT sessions=N errors=E elapsed_ms=T p50_ms=X p99_ms=Y} and, if any failed, one
 * {@code FIRST_ERROR ...} line.
 *
 * <p>Arguments: host port bind seconds concurrency.
 */
public final class SessionLoad {

    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");

    private SessionLoad() {
    }

    public static void main(String[] args) throws InterruptedException {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        String bind = args[2];
        long seconds = Long.parseLong(args[3]);
        int concurrency = Integer.parseInt(args[4]);

        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
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
                        session(server, bind);
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

    private static void session(InetSocketAddress server, String bind) throws IOException {
        try (Socket control = new Socket()) {
            control.bind(new InetSocketAddress(bind, 0));
            control.connect(server, 5_000);
            control.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = control.getOutputStream();
            expect(readReply(in), "220");
            String user = send(out, in, "USER anonymous");
            if (!user.startsWith("230")) {
                expect(user, "331");
                expect(send(out, in, "PASS bench@"), "230");
            }
            String pasv = send(out, in, "PASV");
            expect(pasv, "227");
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
                String list = send(out, in, "LIST");
                if (!list.startsWith("150") && !list.startsWith("125")) {
                    throw new IOException("LIST answered " + list);
                }
                InputStream listing = data.getInputStream();
                byte[] buffer = new byte[8192];
                while (listing.read(buffer) >= 0) {
                    // the listing itself does not matter, only that it arrives in full
                }
            }
            expect(readReply(in), "226");
            expect(send(out, in, "QUIT"), "221");
            // Wait for the server's close, so TIME_WAIT stays on the server side, not on ours.
            while (in.read() >= 0) {
                // drain
            }
        }
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
