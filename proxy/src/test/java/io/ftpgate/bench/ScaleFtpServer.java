package io.ftpgate.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The upstream for the scale run, its own JVM in the server namespace (JDK only, one thread):
 * enough FTP for idle sessions and passive downloads. Greets with {@code 220}; {@code USER},
 * {@code PASS}, {@code TYPE} and anything else but the verbs below get a positive reply;
 * {@code PASV} and {@code EPSV} open a listener and answer {@code 227} or {@code 229}; {@code RETR} answers {@code 150} once
 * the data connection is there, sends {@code size} zero bytes as fast as the peer takes them,
 * closes it and answers {@code 226}; but every transfer stops after half its bytes until a line
 * {@code release} comes on stdin (answered {@code RELEASED}; {@code hold}, answered {@code HELD},
 * holds the next ones again), so no transfer can end before all have started, however much the
 * sockets' buffers hold; {@code QUIT} answers {@code 221} and closes. Where vsftpd
 * forks a process or two per session, this holds thousands. Prints {@code LISTENING} once bound.
 *
 * <p>Arguments: address port size.
 */
public final class ScaleFtpServer {

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024);

    private final Selector selector;
    private final String address;
    private final long size;
    private final java.util.List<Session> held = new java.util.ArrayList<>();
    private volatile boolean released;

    private ScaleFtpServer(Selector selector, String address, long size) {
        this.selector = selector;
        this.address = address;
        this.size = size;
    }

    public static void main(String[] args) throws IOException {
        try (Selector selector = Selector.open(); ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("LISTENING");
            System.out.flush();
            ScaleFtpServer server = new ScaleFtpServer(selector, args[0], Long.parseLong(args[2]));
            Thread stdin = new Thread(() -> server.awaitRelease(selector), "stdin");
            stdin.setDaemon(true);
            stdin.start();
            server.run(listener);
        }
    }

    private void awaitRelease(Selector selector) {
        try {
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.strip().equals("release")) {
                    released = true;
                    selector.wakeup();
                    System.out.println("RELEASED");
                } else if (line.strip().equals("hold")) {
                    released = false;
                    System.out.println("HELD");
                }
                System.out.flush();
            }
        } catch (IOException e) {
            released = true;
            selector.wakeup();
        }
    }

    /** One control connection: its line buffer and its passive transfer, if any. */
    private final class Session {
        final SocketChannel control;
        final ByteBuffer in = ByteBuffer.allocate(512);
        ServerSocketChannel passive;
        SocketChannel data;
        boolean retrWaiting;
        long sent;

        Session(SocketChannel control) {
            this.control = control;
        }

        void reply(String line) throws IOException {
            // Replies are short and the client waits for each: one write always takes it all.
            control.write(ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.US_ASCII)));
        }

        void command(String line) throws IOException {
            String verb = line.split(" ", 2)[0].toUpperCase(java.util.Locale.ROOT);
            switch (verb) {
                case "PASV", "EPSV" -> {
                    closeData();
                    passive = ServerSocketChannel.open();
                    passive.bind(new InetSocketAddress(address, 0), 1);
                    passive.configureBlocking(false);
                    passive.register(selector, SelectionKey.OP_ACCEPT, this);
                    int port = passive.socket().getLocalPort();
                    reply(verb.equals("EPSV") ? "229 Entering Extended Passive Mode (|||" + port + "|)"
                            : "227 Entering Passive Mode (" + address.replace('.', ',') + "," + (port >> 8) + "," + (port & 255) + ")");
                }
                case "RETR" -> {
                    if (passive == null && data == null) {
                        reply("425 Use PASV first");
                    } else {
                        retrWaiting = true;
                        startIfConnected();
                    }
                }
                case "QUIT" -> {
                    reply("221 Bye");
                    close();
                }
                case "USER" -> reply("331 Any password");
                case "PASS" -> reply("230 Logged in");
                default -> reply("200 OK");
            }
        }

        void startIfConnected() throws IOException {
            if (retrWaiting && data != null) {
                retrWaiting = false;
                reply("150 Sending " + size + " bytes");
                data.register(selector, SelectionKey.OP_WRITE, this);
            }
        }

        void accepted() throws IOException {
            data = passive.accept();
            if (data == null) {
                return;
            }
            passive.close();
            passive = null;
            data.configureBlocking(false);
            startIfConnected();
        }

        void writable() throws IOException {
            long until = released ? size : size / 2;
            if (sent == until) {
                data.keyFor(selector).interestOps(0);
                held.add(this);
                return;
            }
            ByteBuffer chunk = ZEROS.duplicate();
            chunk.limit((int) Math.min(chunk.capacity(), until - sent));
            try {
                sent += data.write(chunk);
            } catch (IOException e) {
                closeData();
                reply("426 Transfer aborted: " + e.getMessage());
                return;
            }
            if (sent == size) {
                closeData();
                reply("226 Transfer complete");
            }
        }

        void closeData() throws IOException {
            if (passive != null) {
                passive.close();
                passive = null;
            }
            if (data != null) {
                data.close();
                data = null;
            }
            sent = 0;
        }

        void close() throws IOException {
            closeData();
            control.close();
        }
    }

    private void run(ServerSocketChannel listener) throws IOException {
        byte[] greeting = "220 ftpgate benchmark scale server\r\n".getBytes(StandardCharsets.US_ASCII);
        while (true) {
            selector.select();
            if (released && !held.isEmpty()) {
                for (Session s : held) {
                    if (s.data != null && s.data.isOpen()) {
                        s.data.keyFor(selector).interestOps(SelectionKey.OP_WRITE);
                    }
                }
                held.clear();
            }
            for (SelectionKey key : selector.selectedKeys()) {
                if (!key.isValid()) {
                    continue;
                }
                if (key.channel() == listener) {
                    SocketChannel channel;
                    while ((channel = listener.accept()) != null) {
                        channel.configureBlocking(false);
                        channel.write(ByteBuffer.wrap(greeting));
                        channel.register(selector, SelectionKey.OP_READ, new Session(channel));
                    }
                    continue;
                }
                Session session = (Session) key.attachment();
                try {
                    if (key.isAcceptable()) {
                        session.accepted();
                    } else if (key.isWritable()) {
                        session.writable();
                    } else if (key.isReadable()) {
                        read(session);
                    }
                } catch (IOException e) {
                    session.close();
                }
            }
            selector.selectedKeys().clear();
        }
    }

    private static void read(Session session) throws IOException {
        if (session.control.read(session.in) < 0) {
            session.close();
            return;
        }
        session.in.flip();
        int start = 0;
        for (int i = 0; i < session.in.limit(); i++) {
            if (session.in.get(i) == '\n') {
                byte[] line = new byte[i - start];
                session.in.get(start, line);
                start = i + 1;
                session.command(new String(line, StandardCharsets.US_ASCII).strip());
                if (!session.control.isOpen()) {
                    return;
                }
            }
        }
        session.in.position(start);
        session.in.compact();
    }
}
