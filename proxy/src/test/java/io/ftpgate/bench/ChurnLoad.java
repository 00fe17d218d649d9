package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Churn driver run as its own JVM in the client namespace (JDK only): {@code concurrency}
 * threads run {@code sessions} mixed FTP sessions between them. Session {@code i} uses data mode
 * PASV, EPSV, PORT or EPRT ({@code i % 4}), LIST or RETR ({@code i / 4 % 2}), and ends one of
 * seven ways ({@code i % 7}, see {@link Ending}): QUIT after the transfer; the client going away
 * right after connecting, with FIN or with RST (while the gateway still connects upstream); ABOR
 * in the middle of a download; a reset of both connections mid-transfer; a FIN after login.
 *
 * <p>Prints {@code RESULT sessions=N failed=F elapsed_ms=T} and one line per failure type,
 * {@code FAILURE count=C type=... example=...}: the step, and the reply or exception there.
 *
 * <p>Arguments: host port bind sessions concurrency file.
 */
public final class ChurnLoad {
    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");
    private static final Pattern EPSV = Pattern.compile("\\(\\|\\|\\|(\\d+)\\|\\)");
    private static final int TIMEOUT_MS = 15_000;

    enum Ending { QUIT, FIN_AT_CONNECT, RST_AT_CONNECT, ABOR, RST_MID_TRANSFER, FIN_AFTER_LOGIN, QUIT_AGAIN }

    private ChurnLoad() {
    }

    public static void main(String[] args) throws InterruptedException {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        InetAddress bind;
        try {
            bind = InetAddress.getByName(args[2]);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
        int sessions = Integer.parseInt(args[3]);
        int concurrency = Integer.parseInt(args[4]);
        String file = args[5];
        AtomicInteger next = new AtomicInteger();
        LongAdder failed = new LongAdder();
        Map<String, LongAdder> counts = new ConcurrentHashMap<>();
        Map<String, String> examples = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            Thread thread = new Thread(() -> {
                for (int i = next.getAndIncrement(); i < sessions; i = next.getAndIncrement()) {
                    Step step = new Step();
                    try {
                        session(server, bind, i, file, step);
                    } catch (IOException | RuntimeException e) {
                        failed.increment();
                        String type = step.name + ": " + kind(e);
                        counts.computeIfAbsent(type, k -> new LongAdder()).increment();
                        examples.putIfAbsent(type, "session " + i + " " + e);
                    }
                }
            }, "churn-" + t);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        long elapsed = (System.nanoTime() - start) / 1_000_000;
        System.out.println("RESULT sessions=" + sessions + " failed=" + failed.sum() + " elapsed_ms=" + elapsed);
        counts.forEach((type, n) -> System.out.println("FAILURE count=" + n.sum() + " type=" + type
                + " example=" + examples.get(type).replace('\n', ' ')));
    }

    /** A failure's type: the reply code and text without numbers, or the exception's class. */
    private static String kind(Exception e) {
        if (e instanceof UnexpectedReply || e.getClass() == IOException.class) {
            return e.getMessage().replaceAll("\\d{2,}", "#");
        }
        return e.getClass().getSimpleName();
    }

    /** Where a session is, for the failure's type. */
    private static final class Step {
        String name = "connect";
    }

    private static void session(InetSocketAddress server, InetAddress bind, int i, String file, Step step) throws IOException {
        Ending ending = Ending.values()[i % Ending.values().length];
        int mode = i % 4;
        boolean retr = (i / 4) % 2 == 0 || ending == Ending.ABOR || ending == Ending.RST_MID_TRANSFER;
        try (Socket control = new Socket()) {
            control.bind(new InetSocketAddress(bind, 0));
            control.connect(server, TIMEOUT_MS);
            control.setSoTimeout(TIMEOUT_MS);
            if (ending == Ending.FIN_AT_CONNECT) {
                return;
            }
            if (ending == Ending.RST_AT_CONNECT) {
                control.setSoLinger(true, 0);
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = control.getOutputStream();
            step.name = "greeting";
            expect(in, 220);
            step.name = "login";
            send(out, "USER anonymous");
            String user = readReply(in);
            if (user.startsWith("331 ")) {
                send(out, "PASS churn@");
                expect(in, 230);
            } else if (!user.startsWith("230 ")) {
                throw new UnexpectedReply(user);
            }
            if (ending == Ending.FIN_AFTER_LOGIN) {
                return;
            }
            send(out, "TYPE I");
            expect(in, 200);
            step.name = new String[] {"PASV", "EPSV", "PORT", "EPRT"}[mode];
            String command = retr ? "RETR " + file : "LIST";
            Socket data;
            if (mode < 2) {
                send(out, mode == 0 ? "PASV" : "EPSV");
                String reply = expect(in, mode == 0 ? 227 : 229);
                InetSocketAddress target;
                if (mode == 0) {
                    Matcher m = PASV.matcher(reply);
                    if (!m.find()) {
                        throw new UnexpectedReply("unparsable " + reply);
                    }
                    target = new InetSocketAddress(m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4),
                            Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6)));
                } else {
                    Matcher m = EPSV.matcher(reply);
                    if (!m.find()) {
                        throw new UnexpectedReply("unparsable " + reply);
                    }
                    target = new InetSocketAddress(server.getAddress(), Integer.parseInt(m.group(1)));
                }
                data = new Socket();
                data.bind(new InetSocketAddress(bind, 0));
                data.connect(target, TIMEOUT_MS);
                step.name += " " + (retr ? "RETR" : "LIST");
                send(out, command);
                expectPreliminary(in);
            } else {
                try (ServerSocket listen = new ServerSocket()) {
                    listen.bind(new InetSocketAddress(bind, 0), 1);
                    listen.setSoTimeout(TIMEOUT_MS);
                    int port = listen.getLocalPort();
                    send(out, mode == 2
                            ? "PORT " + bind.getHostAddress().replace('.', ',') + "," + port / 256 + "," + port % 256
                            : "EPRT |1|" + bind.getHostAddress() + "|" + port + "|");
                    expect(in, 200);
                    step.name += " " + (retr ? "RETR" : "LIST");
                    send(out, command);
                    expectPreliminary(in);
                    step.name += " accept";
                    data = listen.accept();
                }
            }
            try (data) {
                data.setSoTimeout(TIMEOUT_MS);
                InputStream bytes = data.getInputStream();
                byte[] buf = new byte[16 * 1024];
                step.name += " transfer";
                if (ending == Ending.ABOR || ending == Ending.RST_MID_TRANSFER) {
                    if (bytes.read(buf) < 0) {
                        throw new UnexpectedReply("data ended at once");
                    }
                    if (ending == Ending.RST_MID_TRANSFER) {
                        data.setSoLinger(true, 0);
                        control.setSoLinger(true, 0);
                        return;
                    }
                    step.name += " ABOR";
                    send(out, "ABOR");
                    data.setSoLinger(true, 0);
                    data.close();
                    // 426 then 226, or 225/226 alone (RFC 959 §4.1.3); the transfer's own 226 may come
                    // first if it had ended. A NOOP after it marks the end of ABOR's replies.
                    send(out, "NOOP");
                    boolean answered = false;
                    for (int code = code(in); code != 200; code = code(in)) {
                        if (code != 426 && code != 451 && code != 225 && code != 226) {
                            throw new UnexpectedReply("ABOR answered " + code);
                        }
                        answered |= code == 225 || code == 226;
                    }
                    if (!answered) {
                        throw new UnexpectedReply("ABOR got no 225/226");
                    }
                } else {
                    while (bytes.read(buf) >= 0) {
                        // drain
                    }
                    expect(in, 226);
                }
            }
            step.name = "QUIT";
            send(out, "QUIT");
            expect(in, 221);
        }
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void expectPreliminary(BufferedReader in) throws IOException {
        String line = readReply(in);
        int code = Integer.parseInt(line.substring(0, 3));
        if (code != 150 && code != 125) {
            throw new UnexpectedReply(line);
        }
    }

    private static String expect(BufferedReader in, int code) throws IOException {
        String line = readReply(in);
        if (!line.startsWith(code + " ")) {
            throw new UnexpectedReply(line);
        }
        return line;
    }

    private static String readReply(BufferedReader in) throws IOException {
        return SessionLoad.readReply(in);
    }

    private static int code(BufferedReader in) throws IOException {
        return Integer.parseInt(readReply(in).substring(0, 3));
    }

    /** A reply other than the one expected (or none): its text is the failure's type. */
    static final class UnexpectedReply extends IOException {
        UnexpectedReply(String message) {
            super(message);
        }
    }
}
