package io.ftpgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A scriptable FTP control session, run as its own JVM inside the client namespace (JDK only; see
 * {@link ProbeSession} for the test side). It connects from {@code args[2]} to
 * {@code args[0]:args[1]}, logs in as
 * {@code args[3]} (default anonymous), prints {@code READY} and then obeys lines on stdin, answering one line each:
 * <ul>
 *   <li>{@code CMD <ftp command>} — sends it, prints {@code REPLY <last reply line>};
 *   <li>{@code CONNECT <bind address> <host> <port>} — opens a TCP connection from that local
 *       address with a 2 s timeout, prints {@code CONNECTED} or {@code FAILED <why>};
 *   <li>{@code OPEN <bind address> <host> <port>} — like CONNECT, but keeps the connection open
 *       for the next RETR;
 *   <li>{@code RETR <file>} — sends RETR, reads the opened data connection to its end, prints
 *       {@code RETRIEVED <bytes> <sha-256 hex> <last line of the final reply>};
 *   <li>{@code QUIT} — closes the session and exits.
 * </ul>
 */
public final class ControlProbe {

    private ControlProbe() {
    }

    public static void main(String[] args) throws IOException {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Socket data = null;
        try (Socket control = new Socket()) {
            control.bind(new InetSocketAddress(args[2], 0));
            control.connect(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 5_000);
            control.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.US_ASCII));
            Writer out = new OutputStreamWriter(control.getOutputStream(), StandardCharsets.US_ASCII);
            String greeting = readReply(in);
            String user = send(out, in, "USER " + (args.length > 3 ? args[3] : "anonymous"));
            String pass = user.startsWith("331") ? send(out, in, "PASS probe@") : user;
            if (!pass.startsWith("230")) {
                System.out.println("LOGIN FAILED greeting=" + greeting + " user=" + user + " pass=" + pass);
                return;
            }
            System.out.println("READY");
            for (String line; (line = stdin.readLine()) != null; ) {
                if (line.startsWith("CMD ")) {
                    System.out.println("REPLY " + send(out, in, line.substring(4)));
                } else if (line.startsWith("CONNECT ")) {
                    String[] words = line.split(" ");
                    System.out.println(connect(words[1], words[2], Integer.parseInt(words[3])));
                } else if (line.startsWith("OPEN ")) {
                    String[] words = line.split(" ");
                    data = new Socket();
                    try {
                        data.bind(new InetSocketAddress(words[1], 0));
                        data.connect(new InetSocketAddress(words[2], Integer.parseInt(words[3])), 2_000);
                        System.out.println("CONNECTED");
                    } catch (IOException e) {
                        System.out.println("FAILED " + e);
                    }
                } else if (line.startsWith("RETR ")) {
                    System.out.println(retrieve(out, in, data, line));
                } else if (line.equals("QUIT")) {
                    send(out, in, "QUIT");
                    return;
                } else {
                    System.out.println("UNKNOWN " + line);
                }
            }
        } catch (IOException e) {
            System.out.println("ERROR " + e);
        }
    }

    private static String send(Writer out, BufferedReader in, String command) throws IOException {
        out.write(command + "\r\n");
        out.flush();
        return readReply(in);
    }

    /** The last line of a reply; multi-line replies end with "ddd " (RFC 959 §4.2). */
    private static String readReply(BufferedReader in) throws IOException {
        String line = in.readLine();
        if (line == null) {
            return "EOF";
        }
        if (line.length() >= 4 && line.charAt(3) == '-') {
            String end = line.substring(0, 3) + " ";
            while (line != null && !line.startsWith(end)) {
                line = in.readLine();
            }
        }
        return line == null ? "EOF" : line;
    }

    /** RETR over the data connection opened before: 1xx, the bytes to EOF, the final reply. */
    private static String retrieve(Writer out, BufferedReader in, Socket data, String command) throws IOException {
        if (data == null) {
            return "FAILED no data connection opened";
        }
        String first = send(out, in, command);
        if (!first.startsWith("1")) {
            data.close();
            return "FAILED " + first;
        }
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long bytes = 0;
        try (var stream = data.getInputStream()) {
            byte[] buffer = new byte[65536];
            for (int n; (n = stream.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
                bytes += n;
            }
        }
        data.close();
        return "RETRIEVED " + bytes + " " + java.util.HexFormat.of().formatHex(sha.digest()) + " " + readReply(in);
    }

    private static String connect(String bind, String host, int port) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(bind, 0));
            socket.connect(new InetSocketAddress(host, port), 2_000);
            return "CONNECTED";
        } catch (IOException e) {
            return "FAILED " + e;
        }
    }
}
