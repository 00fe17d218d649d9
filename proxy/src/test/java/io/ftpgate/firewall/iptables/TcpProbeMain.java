package io.ftpgate.firewall.iptables;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A tiny TCP peer for {@link IptablesFirewallIT}, run with {@code ip netns exec NS java -cp ...}
 * so that it lives in a test namespace (the test JVM stays in the root namespace).
 *
 * <pre>
 * listen PORT                      accept and close connections forever; prints "listening" when ready
 * connect HOST PORT TIMEOUT_MS [FROM]  exit 0 if the TCP handshake completes in time, else 1;
 *                                  FROM: the local address to connect from
 * </pre>
 */
public final class TcpProbeMain {

    private TcpProbeMain() {
    }

    public static void main(String[] args) throws IOException {
        switch (args[0]) {
            case "listen" -> listen(Integer.parseInt(args[1]));
            case "connect" -> System.exit(connect(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    args.length > 4 ? args[4] : null));
            default -> throw new IllegalArgumentException("usage: listen PORT | connect HOST PORT TIMEOUT_MS");
        }
    }

    private static void listen(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port));
            System.out.println("listening");
            System.out.flush();
            while (true) {
                try (Socket ignored = server.accept()) {
                    // The handshake is all the test needs.
                }
            }
        }
    }

    private static int connect(String host, int port, int timeoutMillis, String from) {
        try (Socket socket = new Socket()) {
            if (from != null) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            }
            socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), timeoutMillis);
            System.out.println("connected");
            return 0;
        } catch (IOException e) {
            System.out.println("failed: " + e);
            return 1;
        }
    }
}
