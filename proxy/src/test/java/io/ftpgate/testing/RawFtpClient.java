package io.ftpgate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A control connection as plain bytes, for what a real client library will not send: pipelined
 * commands, NUL, bare LF, huge lines, Telnet IAC sequences, bounce PORTs. Reads whole replies,
 * multi-line ones included (RFC 959 §4.2). Every read gives up after 5 s.
 */
public final class RawFtpClient implements AutoCloseable {

    /** One reply as the client saw it. */
    public record Reply(int code, List<String> lines) {
        public String text() {
            return String.join("\n", lines);
        }

        @Override
        public String toString() {
            return text();
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawFtpClient(InetSocketAddress gateway) throws IOException {
        this(gateway, null);
    }

    /** A connection from {@code from} (e.g. 127.0.0.2: another client address on loopback). */
    public RawFtpClient(InetSocketAddress gateway, java.net.InetAddress from) throws IOException {
        socket = new Socket();
        if (from != null) {
            socket.bind(new InetSocketAddress(from, 0));
        }
        socket.connect(gateway, 5000);
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Connects, reads the greeting (must be 220) and logs in. */
    public static RawFtpClient loggedIn(InetSocketAddress gateway) throws IOException {
        RawFtpClient c = new RawFtpClient(gateway);
        expect(c.read(), 220);
        expect(c.command("USER anonymous"), 331, 230);
        if (c.last.code == 331) {
            expect(c.command("PASS test@example.org"), 230);
        }
        return c;
    }

    private Reply last;

    private static void expect(Reply r, int... codes) throws IOException {
        for (int c : codes) {
            if (r.code == c) {
                return;
            }
        }
        throw new IOException("unexpected reply: " + r);
    }

    /** How long a read waits (5 s unless changed). */
    public void setTimeoutMillis(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Sends one line with CRLF and reads its reply. */
    public Reply command(String line) throws IOException {
        send(line);
        return read();
    }

    /** Sends one line with CRLF. */
    public void send(String line) throws IOException {
        sendRaw((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends one byte as TCP urgent data (MSG_OOB), as ftplib sends the end of ABOR. */
    public void sendUrgent(int b) throws IOException {
        out.flush();
        socket.sendUrgentData(b);
    }

    /** Reads one complete reply. */
    public Reply read() throws IOException {
        String first = readLine();
        if (first == null) {
            throw new IOException("connection closed by the gateway");
        }
        List<String> lines = new ArrayList<>(List.of(first));
        if (first.length() < 3) {
            throw new IOException("not a reply: " + first);
        }
        int code = Integer.parseInt(first.substring(0, 3));
        if (first.length() > 3 && first.charAt(3) == '-') {
            String end = first.substring(0, 3) + " ";
            String line;
            do {
                line = readLine();
                if (line == null) {
                    throw new IOException("connection closed inside a multi-line reply: " + lines);
                }
                lines.add(line);
            } while (!line.startsWith(end) && !line.equals(first.substring(0, 3)));
        }
        last = new Reply(code, List.copyOf(lines));
        return last;
    }

    /** The port announced in a 227 or 229 reply. */
    public static int passivePort(Reply r) {
        String t = r.lines().get(0);
        if (r.code() == 229) {
            String inner = t.substring(t.indexOf('(') + 1, t.lastIndexOf(')'));
            return Integer.parseInt(inner.substring(3, inner.length() - 1));
        }
        String[] n = t.substring(t.indexOf('(') + 1, t.lastIndexOf(')')).split(",");
        return Integer.parseInt(n[4].trim()) * 256 + Integer.parseInt(n[5].trim());
    }

    /** True when the gateway has closed the connection (end of stream or reset) within 5 s. */
    public boolean isClosedByPeer() {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** One line without its CRLF, or null at end of stream. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        if (b == -1) {
            return null;
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Closes the control connection with a TCP reset (SO_LINGER 0), as a crashing client would. */
    public void resetClose() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
