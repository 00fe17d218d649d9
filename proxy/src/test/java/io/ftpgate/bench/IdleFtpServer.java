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
 * The upstream for the idle-session measurement, run as its own JVM in the server namespace (JDK
 * only): greets every connection with {@code 220}, then reads and ignores whatever comes until the
 * peer closes. One thread holds thousands of connections, where vsftpd would fork a process (two
 * after login) per session. Prints {@code LISTENING} once bound. Arguments: address port.
 */
public final class IdleFtpServer {

    private IdleFtpServer() {
    }

    public static void main(String[] args) throws IOException {
        byte[] greeting = "220 ftpgate benchmark idle server\r\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer sink = ByteBuffer.allocate(4096);
        try (Selector selector = Selector.open(); ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("LISTENING");
            System.out.flush();
            while (true) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isAcceptable()) {
                        SocketChannel channel;
                        while ((channel = listener.accept()) != null) {
                            channel.configureBlocking(false);
                            channel.write(ByteBuffer.wrap(greeting));
                            channel.register(selector, SelectionKey.OP_READ);
                        }
                    } else if (key.isReadable()) {
                        SocketChannel channel = (SocketChannel) key.channel();
                        sink.clear();
                        int read;
                        try {
                            read = channel.read(sink);
                        } catch (IOException e) {
                            read = -1;
                        }
                        if (read < 0) {
                            key.cancel();
                            channel.close();
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        }
    }
}
