package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The clients of the scale run, its own JVM in the client namespace (JDK only), driven line by
 * line on stdin, one answer line each on stdout:
 * <ul>
 *   <li>{@code idle N}: opens N control sessions (in batches, so ftpgate's accept queue is not
 *       overrun), reads each greeting; answers {@code READY n}.
 *   <li>{@code active M SIZE}: opens M sessions that log in, send {@code PASV}, connect the data
 *       connection and {@code RETR}, each up to its {@code 150}, and reads no data byte yet, so all
 *       M transfers are running at once (held by back-pressure); answers {@code ALIVE m}.
 *   <li>{@code drain}: reads every data connection to its end, then each {@code 226}; answers
 *       {@code DONE ok=K bytes=B wrong=W first=...}: K transfers with exactly SIZE bytes and a
 *       {@code 226}, W others.
 *   <li>{@code close}: closes everything; answers {@code CLOSED}.
 * </ul>
 * Arguments: host port bind.
 */
public final class ScaleClients {

    private static final int BATCH = 200;
    private static final int THREADS = 16;
    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");

    private final InetSocketAddress server;
    private final String bind;
    private final List<SocketChannel> idle = new ArrayList<>();
    private final List<Transfer> transfers = new ArrayList<>();
    private long size;

    private ScaleClients(InetSocketAddress server, String bind) {
        this.server = server;
        this.bind = bind;
    }

    /** One running download: its control and data connections and what arrived. */
    private static final class Transfer {
        final SocketChannel control;
        SocketChannel data;
        long received;
        String problem;

        Transfer(SocketChannel control) {
            this.control = control;
        }
    }

    public static void main(String[] args) throws Exception {
        ScaleClients clients = new ScaleClients(new InetSocketAddress(args[0], Integer.parseInt(args[1])), args[2]);
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = stdin.readLine()) != null; ) {
            String[] words = line.strip().split(" ");
            String answer;
            try {
                answer = switch (words[0]) {
                    case "idle" -> clients.idle(Integer.parseInt(words[1]));
                    case "active" -> clients.active(Integer.parseInt(words[1]), Long.parseLong(words[2]));
                    case "drain" -> clients.drain();
                    case "close" -> clients.close();
                    default -> "FAILED unknown command " + line;
                };
            } catch (Exception e) {
                answer = "FAILED " + e;
            }
            System.out.println(answer);
            System.out.flush();
        }
        clients.close();
    }

    private SocketChannel connect(InetSocketAddress to) throws IOException {
        SocketChannel channel = SocketChannel.open();
        channel.bind(new InetSocketAddress(bind, 0));
        channel.socket().connect(to, 10_000);
        return channel;
    }

    private String idle(int count) throws IOException {
        for (int done = 0; done < count; done += BATCH) {
            List<SocketChannel> batch = new ArrayList<>();
            for (int i = done; i < Math.min(count, done + BATCH); i++) {
                SocketChannel channel = connect(server);
                idle.add(channel);
                batch.add(channel);
            }
            for (SocketChannel channel : batch) {
                String greeting = readLine(channel);
                if (!greeting.startsWith("220")) {
                    return "FAILED after " + idle.size() + " sessions: greeted with " + greeting;
                }
            }
        }
        return "READY " + idle.size();
    }

    private String active(int count, long bytes) throws Exception {
        size = bytes;
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Transfer>> started = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                started.add(pool.submit(this::start));
            }
            for (Future<Transfer> f : started) {
                transfers.add(f.get());
            }
        } finally {
            pool.shutdown();
        }
        long alive = transfers.stream().filter(t -> t.problem == null).count();
        String first = transfers.stream().filter(t -> t.problem != null).map(t -> t.problem).findFirst().orElse("-");
        return "ALIVE " + alive + " first=" + first;
    }

    /** Login, PASV, data connection, RETR, up to the 150: no data byte is read here. */
    private Transfer start() throws IOException {
        Transfer t = new Transfer(connect(server));
        try {
            expect(t.control, null, "220");
            expect(t.control, "USER anonymous", "331");
            expect(t.control, "PASS scale@", "230");
            expect(t.control, "TYPE I", "200");
            Matcher m = PASV.matcher(expect(t.control, "PASV", "227"));
            if (!m.find()) {
                throw new IOException("no address in the 227");
            }
            String host = m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4);
            t.data = connect(new InetSocketAddress(host, Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6))));
            expect(t.control, "RETR scale.bin", "150");
        } catch (IOException e) {
            t.problem = e.getMessage();
        }
        return t;
    }

    private String drain() throws IOException {
        try (Selector selector = Selector.open()) {
            for (Transfer t : transfers) {
                if (t.problem == null) {
                    t.data.configureBlocking(false);
                    t.data.register(selector, SelectionKey.OP_READ, t);
                }
            }
            ByteBuffer sink = ByteBuffer.allocateDirect(256 * 1024);
            long open = selector.keys().size();
            while (open > 0) {
                if (selector.select(60_000) == 0) {
                    break;
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    Transfer t = (Transfer) key.attachment();
                    sink.clear();
                    int read;
                    try {
                        read = t.data.read(sink);
                    } catch (IOException e) {
                        t.problem = "data connection: " + e.getMessage();
                        read = -1;
                    }
                    if (read < 0) {
                        open--;
                        key.cancel();
                        t.data.close();
                    } else {
                        t.received += read;
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        int ok = 0;
        long bytes = 0;
        for (Transfer t : transfers) {
            bytes += t.received;
            if (t.problem == null) {
                try {
                    expect(t.control, null, "226");
                } catch (IOException e) {
                    t.problem = e.getMessage();
                }
            }
            if (t.problem == null && t.received != size) {
                t.problem = "received " + t.received + " of " + size + " bytes";
            }
            ok += t.problem == null ? 1 : 0;
        }
        String first = transfers.stream().filter(t -> t.problem != null).map(t -> t.problem).findFirst().orElse("-");
        return "DONE ok=" + ok + " bytes=" + bytes + " wrong=" + (transfers.size() - ok) + " first=" + first;
    }

    private String close() throws IOException {
        for (SocketChannel channel : idle) {
            channel.close();
        }
        idle.clear();
        for (Transfer t : transfers) {
            t.control.close();
            if (t.data != null) {
                t.data.close();
            }
        }
        transfers.clear();
        return "CLOSED";
    }

    /** Sends {@code command} (unless null) and reads the reply, which must start with {@code code}. */
    private static String expect(SocketChannel control, String command, String code) throws IOException {
        if (command != null) {
            ByteBuffer out = ByteBuffer.wrap((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                control.write(out);
            }
        }
        String reply = readLine(control);
        if (!reply.startsWith(code)) {
            throw new IOException((command == null ? "greeting/final reply" : command) + " got '" + reply + "'");
        }
        return reply;
    }

    /** One reply line, read byte by byte in blocking mode so no buffer holds bytes of the next reply. */
    private static String readLine(SocketChannel channel) throws IOException {
        if (!channel.isBlocking()) {
            channel.configureBlocking(true);
        }
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            // The socket's SO_TIMEOUT does not apply to channel reads: a silent peer is ended by ftpgate's idle timeout.
            if (channel.read(one) < 0) {
                throw new IOException("connection closed" + (line.length() > 0 ? " after '" + line + "'" : ""));
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return line.toString().strip();
            }
            line.append(c);
        }
    }
}
