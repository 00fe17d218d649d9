package io.ftpgate.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Thousands of spliced transfers, ended in every order of closes and with resets, on real loopback
 * connections: afterwards the process holds as many file descriptors as before. A spliced relay
 * uses a pipe (two descriptors) per direction; one left behind per transfer would show here as
 * hundreds.
 */
class SplicedRelayFdTest {
    private static final int TRANSFERS = 500;
    private static final int PAYLOAD = 256 * 1024;

    /** How a transfer ends. */
    enum Ending {
        /** The server sends and closes; the client reads it all, then closes. */
        DOWNLOAD_SERVER_FIRST,
        /** The client sends and closes; the server reads it all, then closes. */
        UPLOAD_CLIENT_FIRST,
        /** The server sends and closes while the client closes without reading (flushing leg loses its peer). */
        BOTH_CLOSE_WHILE_FLUSHING,
        /** The server sends and resets; the client has read nothing. */
        SERVER_RESETS,
        /** The server sends; the client resets without reading; then the server closes. */
        CLIENT_RESETS_WHILE_FLUSHING,
        /** Both peers send and reset at once. */
        BOTH_RESET,
        /** The server sends and closes while the client, reading nothing, sends too and closes. */
        BOTH_SEND_AND_CLOSE,
    }

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    private EventLoopGroup group;
    private Channel acceptor;
    private InetSocketAddress at;

    @BeforeEach
    void start() throws Exception {
        assumeThat(Epoll.isAvailable()).as("native epoll transport").isTrue();
        Transport transport = Transport.detect();
        group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        acceptor = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.add(ch);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        at = (InetSocketAddress) acceptor.localAddress();
    }

    @AfterEach
    void stop() throws Exception {
        if (acceptor != null) {
            acceptor.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        threads.shutdownNow();
    }

    @ParameterizedTest
    @EnumSource(Ending.class)
    void everyPipeIsClosedWhenItsTransferEnds(Ending ending) throws Exception {
        for (int i = 0; i < 20; i++) { // warm-up: the JVM's and Netty's own descriptors are open
            transfer(ending);
        }
        long before = openFds();
        int spliced = 0;
        for (int i = 0; i < TRANSFERS; i++) {
            spliced += transfer(ending) ? 1 : 0;
        }
        assertThat(spliced).as("transfers that were spliced").isEqualTo(TRANSFERS);
        long after = openFds();
        for (int tries = 0; after > before + 4 && tries < 50; tries++) {
            Thread.sleep(100); // closes finishing on the event loop
            after = openFds();
        }
        assertThat(after).as("open descriptors after %d transfers (%s), %d before", TRANSFERS, ending, before)
                .isLessThanOrEqualTo(before + 4);
    }

    /** One transfer through a new spliced relay; returns whether it was spliced. */
    private boolean transfer(Ending ending) throws Exception {
        CompletableFuture<Void> finished = new CompletableFuture<>();
        DataRelay relay = new DataRelay(Duration.ofSeconds(20), true, (up, down) -> finished.complete(null));
        Socket client = new Socket(at.getAddress(), at.getPort());
        Channel clientLeg = accepted.poll(5, TimeUnit.SECONDS);
        Socket server = new Socket(at.getAddress(), at.getPort());
        Channel serverLeg = accepted.poll(5, TimeUnit.SECONDS);
        client.setSoTimeout(10_000);
        server.setSoTimeout(10_000);
        boolean spliced = group.next().submit(() -> {
            relay.attachClient(clientLeg);
            relay.attachServer(serverLeg);
            return relay.isSpliced();
        }).get(5, TimeUnit.SECONDS);
        try {
            switch (ending) {
                case DOWNLOAD_SERVER_FIRST -> {
                    Future<?> w = threads.submit(() -> sendAndClose(server));
                    drain(client.getInputStream());
                    w.get(10, TimeUnit.SECONDS);
                    client.close();
                }
                case UPLOAD_CLIENT_FIRST -> {
                    Future<?> w = threads.submit(() -> sendAndClose(client));
                    drain(server.getInputStream());
                    w.get(10, TimeUnit.SECONDS);
                    server.close();
                }
                case BOTH_CLOSE_WHILE_FLUSHING -> {
                    server.getOutputStream().write(new byte[PAYLOAD]);
                    server.close();
                    client.close();
                }
                case SERVER_RESETS -> {
                    server.getOutputStream().write(new byte[PAYLOAD]);
                    reset(server);
                    client.close();
                }
                case CLIENT_RESETS_WHILE_FLUSHING -> {
                    server.getOutputStream().write(new byte[PAYLOAD]);
                    reset(client);
                    server.close();
                }
                case BOTH_RESET -> {
                    Future<?> w = threads.submit(() -> {
                        client.getOutputStream().write(new byte[PAYLOAD / 4]);
                        reset(client);
                        return null;
                    });
                    server.getOutputStream().write(new byte[PAYLOAD / 4]);
                    reset(server);
                    w.get(10, TimeUnit.SECONDS);
                }
                case BOTH_SEND_AND_CLOSE -> {
                    Future<?> w = threads.submit(() -> sendAndClose(client));
                    server.getOutputStream().write(new byte[PAYLOAD]);
                    server.close();
                    w.get(10, TimeUnit.SECONDS);
                }
            }
        } catch (IOException | java.util.concurrent.ExecutionException e) {
            // A peer's reset reaches the other peer's write: part of the ending.
        } finally {
            client.close();
            server.close();
        }
        finished.get(10, TimeUnit.SECONDS);
        return spliced;
    }

    private static Void sendAndClose(Socket s) throws IOException {
        try {
            s.getOutputStream().write(new byte[PAYLOAD]);
            s.shutdownOutput();
        } catch (IOException e) {
            // the other peer's reset, in the endings that have one
        }
        return null;
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        int r;
        while ((r = in.read(buf)) >= 0) {
            n += r;
        }
        assertThat(n).isEqualTo(PAYLOAD);
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
