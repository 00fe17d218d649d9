package io.ftpgate;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sd_notify datagrams, byte for byte, as received by a real AF_UNIX datagram socket standing in
 * for systemd's (bound in a temporary directory, or in the abstract namespace).
 */
class SystemdNotifyTest {
    private static final long PID = ProcessHandle.current().pid();

    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private EventLoopGroup group;
    private Channel receiver;

    @BeforeEach
    void requireEpoll() {
        Assumptions.assumeTrue(Epoll.isAvailable(), () -> "native epoll unavailable: " + Epoll.unavailabilityCause());
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void closeReceiver() {
        if (receiver != null) {
            receiver.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void sendsEachMessageAsOneDatagramToAPathSocket(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        bind(path);
        try (SystemdNotify notify = new SystemdNotify(path)) {
            notify.ready("1 listener(s) on 127.0.0.1:21");
            notify.status("draining 3 session(s)");
            notify.reloading();
            notify.watchdog();
            notify.stopping();
        }
        assertThat(next()).isEqualTo("READY=1\nSTATUS=1 listener(s) on 127.0.0.1:21\nMAINPID=" + PID);
        assertThat(next()).isEqualTo("STATUS=draining 3 session(s)");
        assertThat(next()).isEqualTo("RELOADING=1");
        assertThat(next()).isEqualTo("WATCHDOG=1");
        assertThat(next()).isEqualTo("STOPPING=1");
        assertThat(received).isEmpty();
    }

    @Test
    void reachesAnAbstractSocketWrittenWithAnAt() throws Exception {
        String name = "ftpgate-notify-test-" + PID + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        bind("\0" + name);
        try (SystemdNotify notify = new SystemdNotify("@" + name)) {
            notify.watchdog();
        }
        assertThat(next()).isEqualTo("WATCHDOG=1");
    }

    @Test
    void aNewlineInAStatusCannotStartAnotherAssignment(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        bind(path);
        try (SystemdNotify notify = new SystemdNotify(path)) {
            notify.status("bad\nREADY=1");
        }
        assertThat(next()).isEqualTo("STATUS=bad READY=1");
    }

    @Test
    void aMissingSocketIsLoggedNotThrown(@TempDir Path dir) {
        try (SystemdNotify notify = new SystemdNotify(dir.resolve("nobody-listens").toString())) {
            notify.ready("ok");
            notify.watchdog();
        }
        SystemdNotify closed = new SystemdNotify(dir.resolve("nobody-listens").toString());
        closed.close();
        closed.stopping();
    }

    @Test
    void fromEnvironmentNeedsANotifySocket(@TempDir Path dir) {
        assertThat(SystemdNotify.fromEnvironment(Map.of(), PID)).isEmpty();
        assertThat(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", ""), PID)).isEmpty();
        assertThat(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "vsock:2:1234"), PID)).isEmpty();
        Optional<SystemdNotify> notify = SystemdNotify.fromEnvironment(
                Map.of("NOTIFY_SOCKET", dir.resolve("notify").toString(), "WATCHDOG_USEC", "30000000"), PID);
        assertThat(notify).isPresent();
        assertThat(notify.get().watchdogInterval()).contains(Duration.ofSeconds(15));
        notify.get().close();
    }

    @ParameterizedTest(name = "WATCHDOG_USEC={0} WATCHDOG_PID={1} -> {2}")
    @CsvSource(nullValues = "-", value = {
            "30000000, -,    PT15S",     // half of WatchdogSec=30s
            "30000000, self, PT15S",
            "1,        -,    PT0.0000005S",
            "30000000, 1,    -",         // inherited from another process: not ours
            "0,        -,    -",
            "-5,       -,    -",
            "thirty,   -,    -",
            "30000000, x,    -",
            "-,        self, -",
    })
    void watchdogIntervalIsHalfOfWatchdogUsecForThisProcessOnly(String usec, String pid, String expected) {
        Map<String, String> env = new java.util.HashMap<>();
        if (usec != null) {
            env.put("WATCHDOG_USEC", usec);
        }
        if (pid != null) {
            env.put("WATCHDOG_PID", pid.equals("self") ? Long.toString(PID) : pid);
        }
        assertThat(SystemdNotify.watchdogInterval(env, PID))
                .isEqualTo(Optional.ofNullable(expected).map(Duration::parse));
    }

    /**
     * The daemon as systemd sees it: READY=1 once listening, WATCHDOG=1 while healthy, RELOADING=1
     * then READY=1 on SIGHUP, STOPPING=1 on SIGTERM, and exit status 0.
     */
    @Test
    void theDaemonNotifiesReadyWatchdogReloadAndStop(@TempDir Path dir) throws Exception {
        String socket = dir.resolve("notify").toString();
        bind(socket);
        Path conf = dir.resolve("ftpgate.conf");
        java.nio.file.Files.writeString(conf, """
                ftpgate.listeners.t { listen = ["127.0.0.1:0"], upstream = "127.0.0.1:9" }
                ftpgate.metrics.listen = "127.0.0.1:0"
                ftpgate.shutdown.grace-period = 1s
                """);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.ftpgate.Main", "--config", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile());
        pb.environment().put("NOTIFY_SOCKET", socket);
        pb.environment().put("WATCHDOG_USEC", "400000");
        Process daemon = pb.start();
        try {
            String ready = nextMatching("READY=1");
            assertThat(ready).contains("STATUS=0 session(s)").contains("MAINPID=" + daemon.pid());
            assertThat(java.nio.file.Files.readString(dir.resolve("daemon.log"))).contains("ftpgate ready");
            nextMatching("WATCHDOG=1");
            new ProcessBuilder("kill", "-HUP", Long.toString(daemon.pid())).start().waitFor();
            nextMatching("RELOADING=1");
            nextMatching("READY=1");
            daemon.destroy();
            nextMatching("STOPPING=1");
            assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(daemon.exitValue()).as(java.nio.file.Files.readString(dir.resolve("daemon.log"))).isZero();
        } finally {
            daemon.destroyForcibly();
        }
    }

    private String nextMatching(String prefix) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < until) {
            String m = received.poll(1, TimeUnit.SECONDS);
            if (m != null && m.startsWith(prefix)) {
                return m;
            }
        }
        throw new AssertionError("no " + prefix + " datagram within 15 s");
    }

    private void bind(String path) {
        receiver = new Bootstrap()
                .group(group)
                .channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                        received.add(packet.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(path)).syncUninterruptibly().channel();
    }

    private String next() throws InterruptedException {
        String message = received.poll(5, TimeUnit.SECONDS);
        assertThat(message).as("a datagram within 5 s").isNotNull();
        return message;
    }
}
