package io.ftpgate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny misbehaving FTP server for tests: blocking sockets on 127.0.0.1, one thread per control
 * connection, and a script of what to do per command verb. Unscripted verbs get plain, well-behaved
 * answers (login, PWD, TYPE, EPSV/PASV on a real passive port of its own, RETR of {@link #files},
 * STOR, QUIT), so a test scripts only the misbehaviour it is about. Every command line received is
 * kept in {@link #received()}.
 */
public final class ScriptedFtpServer implements AutoCloseable {

    /** What the server does for one command (or, with verb "", on connect). */
    @FunctionalInterface
    public interface Step {
        void run(Peer peer, String argument) throws Exception;
    }

    /** Files RETR can send; STOR puts what it received here. */
    public final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, Step> script = new ConcurrentHashMap<>();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final ServerSocket listener;
    private final Thread acceptor;

    public ScriptedFtpServer() throws IOException {
        this("127.0.0.1");
    }

    /** A server on {@code bindAddress} (an IP literal, e.g. "::1"). */
    public ScriptedFtpServer(String bindAddress) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getByName(bindAddress));
        on("", (p, a) -> p.reply("220 scripted server ready"));
        on("USER", (p, a) -> p.reply("331 password please"));
        on("PASS", (p, a) -> p.reply("230 logged in"));
        on("PWD", (p, a) -> p.reply("257 \"/\" is the current directory"));
        on("NOOP", (p, a) -> p.reply("200 NOOP ok"));
        on("TYPE", (p, a) -> p.reply("200 type set"));
        on("SYST", (p, a) -> p.reply("215 UNIX Type: L8"));
        on("FEAT", (p, a) -> p.reply("211-Features:", " EPSV", " PASV", "211 End"));
        on("EPSV", (p, a) -> p.reply("229 Entering Extended Passive Mode (|||" + p.openPassive() + "|)"));
        on("PASV", (p, a) -> p.replyPassive("127.0.0.1"));
        on("RETR", (p, a) -> {
            byte[] data = files.get(a);
            if (data == null) {
                p.reply("550 " + a + ": no such file");
                return;
            }
            p.reply("150 opening data connection");
            p.sendData(data);
            p.reply("226 transfer complete");
        });
        on("STOR", (p, a) -> {
            p.reply("150 ready to receive");
            files.put(a, p.receiveData());
            p.reply("226 transfer complete");
        });
        on("QUIT", (p, a) -> {
            p.reply("221 bye");
            p.close();
        });
        acceptor = new Thread(this::acceptLoop, "scripted-ftp-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Scripts {@code verb} (upper case; "" for what happens on connect). */
    public ScriptedFtpServer on(String verb, Step step) {
        script.put(verb, step);
        return this;
    }

    public int port() {
        return listener.getLocalPort();
    }

    public String upstream() {
        String host = listener.getInetAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** Command lines received so far, over all connections, as sent (without CRLF). */
    public List<String> received() {
        return List.copyOf(received);
    }

    /** Verbs received so far. */
    public List<String> verbs() {
        return received.stream().map(l -> l.split(" ", 2)[0].toUpperCase()).toList();
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sockets.forEach(ScriptedFtpServer::closeQuietly);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(new Peer(s)), "scripted-ftp-" + s.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Peer p) {
        try (p) {
            script.get("").run(p, "");
            String line;
            while (!p.closed && (line = p.readLine()) != null) {
                received.add(line);
                String[] parts = line.split(" ", 2);
                Step step = script.get(parts[0].toUpperCase());
                if (step == null) {
                    p.reply("502 " + parts[0] + " not implemented");
                } else {
                    step.run(p, parts.length > 1 ? parts[1] : "");
                }
            }
        } catch (Exception e) {
            // the peer went away or the script closed it; nothing to report
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // best effort
        }
    }

    /** One control connection, as the script sees it. */
    public final class Peer implements AutoCloseable {
        private final Socket control;
        private final InputStream in;
        private final OutputStream out;
        private ServerSocket passive;
        private boolean closed;

        Peer(Socket control) {
            this.control = control;
            try {
                control.setTcpNoDelay(true);
                this.in = control.getInputStream();
                this.out = control.getOutputStream();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Sends each line with CRLF, in one write. */
        public void reply(String... lines) throws IOException {
            raw(String.join("\r\n", lines) + "\r\n");
        }

        /** Sends text exactly as given (no CRLF added), in one write. */
        public void raw(String text) throws IOException {
            raw(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        public void raw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** Sends text one byte per TCP segment (no Nagle, a short pause after each byte). */
        public void dribble(String text) throws IOException, InterruptedException {
            for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
                out.write(b);
                out.flush();
                Thread.sleep(2);
            }
        }

        /** Opens a passive data port on 127.0.0.1 and returns it (a previous one is closed). */
        public int openPassive() throws IOException {
            closeQuietly(passive);
            passive = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
            return passive.getLocalPort();
        }

        /** Opens a passive port and announces it in a 227 reply with {@code announcedHost}. */
        public void replyPassive(String announcedHost) throws IOException {
            int port = openPassive();
            reply("227 Entering Passive Mode (" + announcedHost.replace('.', ',') + "," + (port >> 8) + "," + (port & 255) + ")");
        }

        /** Accepts the data connection on the passive port (5 s at most). */
        public Socket acceptData() throws IOException {
            if (passive == null) {
                throw new IOException("no passive port open");
            }
            passive.setSoTimeout(5000);
            Socket s = passive.accept();
            sockets.add(s);
            closeQuietly(passive);
            passive = null;
            return s;
        }

        public void sendData(byte[] data) throws IOException {
            try (Socket s = acceptData()) {
                s.getOutputStream().write(data);
            }
        }

        public byte[] receiveData() throws IOException {
            try (Socket s = acceptData()) {
                return s.getInputStream().readAllBytes();
            }
        }

        /** Ends the control connection with a TCP reset, as a crashing server would. */
        public void reset() throws IOException {
            control.setSoLinger(true, 0);
            close();
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                line.write(b);
            }
            if (b == -1 && line.size() == 0) {
                return null;
            }
            String s = line.toString(StandardCharsets.ISO_8859_1);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        public InetSocketAddress remote() {
            return (InetSocketAddress) control.getRemoteSocketAddress();
        }

        @Override
        public void close() {
            closed = true;
            closeQuietly(passive);
            closeQuietly(control);
        }
    }
}
