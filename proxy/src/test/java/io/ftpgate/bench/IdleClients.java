package io.ftpgate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Idle control sessions, run as its own JVM in the client namespace (JDK only): opens
 * {@code count} connections from {@code bind} to {@code host:port} (in batches, so the gateway's
 * accept queue is not overrun), reads the {@code 220} greeting on each, prints {@code READY n} and
 * keeps them all open until its stdin closes; then closes them and prints {@code CLOSED}.
 *
 * <p>Arguments: host port bind count.
 */
public final class IdleClients {

    private static final int BATCH = 200;

    private IdleClients() {
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        String bind = args[2];
        int count = Integer.parseInt(args[3]);
        List<Socket> open = new ArrayList<>(count);
        try {
            for (int done = 0; done < count; done += BATCH) {
                List<Socket> batch = new ArrayList<>();
                for (int i = done; i < Math.min(count, done + BATCH); i++) {
                    Socket socket = new Socket();
                    open.add(socket);
                    socket.bind(new InetSocketAddress(bind, 0));
                    socket.connect(server, 10_000);
                    socket.setSoTimeout(20_000);
                    batch.add(socket);
                }
                for (Socket socket : batch) {
                    String greeting = readLine(socket.getInputStream());
                    if (!greeting.startsWith("220")) {
                        throw new IOException("session " + open.indexOf(socket) + " was greeted with " + greeting);
                    }
                }
            }
            System.out.println("READY " + open.size());
        } catch (IOException e) {
            System.out.println("FAILED after " + open.size() + " connections: " + e);
        }
        System.out.flush();
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (stdin.readLine() != null) {
            // wait for the end of stdin
        }
        for (Socket socket : open) {
            socket.close();
        }
        System.out.println("CLOSED");
    }

    /** One reply line, read byte by byte so no buffer holds data of the next socket. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
            line.append((char) c);
        }
        return line.toString().strip();
    }
}
