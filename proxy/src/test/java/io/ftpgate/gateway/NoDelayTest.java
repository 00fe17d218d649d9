package io.ftpgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.ftpgate.testing.GatewayUnderTest;
import io.ftpgate.testing.RawFtpClient;
import io.ftpgate.testing.ScriptedFtpServer;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Every socket of a session has TCP_NODELAY on, read from the kernel while a transfer is open: the
 * client leg, the server leg, and both data connections. ftpgate sets no TCP_NODELAY option of its
 * own (Netty turns it on for every socket channel it makes), so this is what keeps a relayed line
 * or a listing's last chunk from waiting for the previous segment's delayed ACK (Nagle).
 */
class NoDelayTest {

    @Test
    void controlAndDataSocketsHaveNoDelay() throws Exception {
        assumeThat(Epoll.isAvailable()).as("native epoll transport (reads the option of a descriptor)").isTrue();
        AtomicInteger serverDataPort = new AtomicInteger();
        CountDownLatch dataOpen = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        try (ScriptedFtpServer server = new ScriptedFtpServer()) {
            server.on("RETR", (p, a) -> {
                p.reply("150 opening data connection");
                try (Socket data = p.acceptData()) {
                    serverDataPort.set(data.getLocalPort());
                    dataOpen.countDown();
                    checked.await(10, TimeUnit.SECONDS);
                    data.getOutputStream().write("hello\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                p.reply("226 transfer complete");
            });
            try (GatewayUnderTest gw = new GatewayUnderTest("127.0.0.1:0", server.upstream(), Map.of());
                 RawFtpClient c = RawFtpClient.loggedIn(gw.address())) {
                RawFtpClient.Reply pasv = c.command("PASV");
                assertThat(pasv.code()).isEqualTo(227);
                int gatewayDataPort = RawFtpClient.passivePort(pasv);
                try (Socket data = new Socket(gw.address().getAddress(), gatewayDataPort)) {
                    c.send("RETR f");
                    assertThat(c.read().code()).isEqualTo(150);
                    assertThat(dataOpen.await(10, TimeUnit.SECONDS)).isTrue();
                    Map<String, Boolean> noDelay = awaitGatewaySockets(gw.address().getPort(), server.port(),
                            gatewayDataPort, serverDataPort.get());
                    checked.countDown();
                    assertThat(noDelay).containsOnlyKeys("client leg", "server leg", "client data", "server data")
                            .allSatisfy((leg, on) -> assertThat(on).as(leg).isTrue());
                    assertThat(new String(data.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                            .isEqualTo("hello\r\n");
                }
                assertThat(c.read().code()).isEqualTo(226);
            } finally {
                checked.countDown();
            }
        }
    }

    /** The gateway's four sockets of the session, each with TCP_NODELAY as the kernel has it (5 s at most). */
    private static Map<String, Boolean> awaitGatewaySockets(int gatewayPort, int serverPort, int gatewayDataPort,
            int serverDataPort) throws Exception {
        Map<String, Boolean> found = Map.of();
        for (int i = 0; i < 50 && found.size() < 4; i++) {
            found = gatewaySockets(gatewayPort, serverPort, gatewayDataPort, serverDataPort);
            if (found.size() < 4) {
                Thread.sleep(100);
            }
        }
        return found;
    }

    private static Map<String, Boolean> gatewaySockets(int gatewayPort, int serverPort, int gatewayDataPort,
            int serverDataPort) throws IOException {
        // Every established TCP socket of this JVM by inode: local and remote port.
        Map<Long, int[]> ports = new HashMap<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            List<String> lines = Files.readAllLines(p);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (!f[3].equals("01")) { // TCP_ESTABLISHED
                    continue;
                }
                ports.put(Long.parseLong(f[9]), new int[] {port(f[1]), port(f[2])});
            }
        }
        Map<String, Boolean> legs = new HashMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (!target.startsWith("socket:[")) {
                    continue;
                }
                int[] lr = ports.get(Long.parseLong(target.substring(8, target.length() - 1)));
                if (lr == null) {
                    continue;
                }
                String leg = lr[0] == gatewayPort ? "client leg"
                        : lr[1] == serverPort ? "server leg"
                        : lr[0] == gatewayDataPort ? "client data"
                        : lr[1] == serverDataPort ? "server data"
                        : null;
                if (leg != null) {
                    int n = Integer.parseInt(fd.getFileName().toString());
                    // Only reads the option; the descriptor stays the gateway's (never closed here).
                    legs.put(leg, new io.netty.channel.unix.Socket(n).isTcpNoDelay());
                }
            }
        }
        return legs;
    }

    /** The port of a /proc/net/tcp address ("0100007F:0015"). */
    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }
}
