package io.ftpgate;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd about the daemon's state with the {@code sd_notify} protocol (sd_notify(3)): one
 * AF_UNIX datagram per message, newline-separated {@code KEY=VALUE} assignments, sent to the socket
 * named in {@code $NOTIFY_SOCKET} (a path, or {@code @name} for the abstract namespace). Used by
 * units of {@code Type=notify} ({@code READY=1} ends "activating") and with {@code WatchdogSec=}
 * ({@code WATCHDOG=1} keepalives, see {@link #watchdogInterval}).
 *
 * <p>The datagrams go through Netty's native epoll domain datagram channel, on one daemon thread of
 * its own: the JDK's channels have no AF_UNIX datagrams. A message that cannot be sent is logged,
 * never thrown: systemd's view of the daemon must not be able to stop the daemon.
 */
public final class SystemdNotify implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);
    private static final long SEND_TIMEOUT_MILLIS = 1000;

    private final String socket;
    private final DomainSocketAddress address;
    private final Optional<Duration> watchdogInterval;
    private final EventLoopGroup group;
    private final Channel channel;

    /** A notifier for the socket {@code path} ({@code @name}: abstract), without a watchdog (tests). */
    SystemdNotify(String path) {
        this(path, Optional.empty());
    }

    private SystemdNotify(String socket, Optional<Duration> watchdogInterval) {
        this.socket = socket;
        // The abstract namespace is written with a leading '@' and addressed with a leading NUL
        // byte; Netty passes the bytes and their exact length to sendto(2).
        this.address = new DomainSocketAddress(socket.startsWith("@") ? "\0" + socket.substring(1) : socket);
        this.watchdogInterval = watchdogInterval;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ftpgate-sd-notify", true),
                EpollIoHandler.newFactory());
        try {
            // An unbound, unconnected datagram socket: active on registration so that it may send
            // (sendto with the address of each packet), like sd_notify's own socket.
            this.channel = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .register().syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * The notifier systemd asked for, or empty when {@code $NOTIFY_SOCKET} is unset (not started by
     * systemd, or not {@code Type=notify}), names no AF_UNIX socket, or native epoll is unavailable.
     */
    public static Optional<SystemdNotify> fromEnvironment() {
        return fromEnvironment(System.getenv(), ProcessHandle.current().pid());
    }

    static Optional<SystemdNotify> fromEnvironment(Map<String, String> env, long pid) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return Optional.empty();
        }
        if (!socket.startsWith("/") && !socket.startsWith("@")) {
            log.warn("systemd: NOTIFY_SOCKET '{}' is neither a path nor @abstract; not notifying", socket);
            return Optional.empty();
        }
        if (!Epoll.isAvailable()) {
            log.warn("systemd: cannot notify {}: native epoll unavailable ({})", socket, Epoll.unavailabilityCause().toString());
            return Optional.empty();
        }
        try {
            return Optional.of(new SystemdNotify(socket, watchdogInterval(env, pid)));
        } catch (RuntimeException e) {
            log.warn("systemd: cannot open a socket to notify {}: {}", socket, e.toString());
            return Optional.empty();
        }
    }

    /**
     * How often to send {@link #watchdog()}: half of {@code $WATCHDOG_USEC}, as sd_watchdog_enabled(3)
     * recommends, so that one late keepalive is not yet fatal. Empty when the unit has no
     * {@code WatchdogSec=}, the value is not a positive number, or {@code $WATCHDOG_PID} names
     * another process (the variables were inherited, the watchdog is not ours).
     */
    public Optional<Duration> watchdogInterval() {
        return watchdogInterval;
    }

    static Optional<Duration> watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) {
            return Optional.empty();
        }
        String watchdogPid = env.get("WATCHDOG_PID");
        try {
            if (watchdogPid != null && Long.parseLong(watchdogPid.trim()) != pid) {
                return Optional.empty();
            }
            long micros = Long.parseLong(usec.trim());
            return micros > 0 ? Optional.of(Duration.ofNanos(micros * 1000 / 2)) : Optional.empty();
        } catch (NumberFormatException e) {
            log.warn("systemd: ignoring WATCHDOG_USEC '{}' / WATCHDOG_PID '{}': not a number", usec, watchdogPid);
            return Optional.empty();
        }
    }

    /** Start-up is complete: systemd marks the unit active. {@code MAINPID} names the JVM. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status) + "\nMAINPID=" + ProcessHandle.current().pid());
    }

    /** A reload has begun; {@link #ready} follows when it is done. */
    public void reloading() {
        send("RELOADING=1");
    }

    /** Shutdown has begun (sessions are draining). */
    public void stopping() {
        send("STOPPING=1");
    }

    /** The watchdog keepalive; send it every {@link #watchdogInterval}. */
    public void watchdog() {
        send("WATCHDOG=1");
    }

    /** A one-line status, shown by {@code systemctl status}. */
    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    /** Sends one datagram and waits (at most a second) until the kernel took it. */
    private void send(String message) {
        if (!channel.isOpen()) {
            log.warn("systemd: not sent to {} (notifier closed): {}", socket, message.replace('\n', ' '));
            return;
        }
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        ChannelFuture sent = channel.writeAndFlush(new DomainDatagramPacket(Unpooled.wrappedBuffer(bytes), address));
        if (channel.eventLoop().inEventLoop()) {
            sent.addListener(f -> logFailure(message, f.cause()));
            return;
        }
        if (!sent.awaitUninterruptibly(SEND_TIMEOUT_MILLIS)) {
            log.warn("systemd: no answer from the socket within {} ms sending to {}: {}", SEND_TIMEOUT_MILLIS, socket,
                    message.replace('\n', ' '));
            return;
        }
        logFailure(message, sent.cause());
    }

    private void logFailure(String message, Throwable cause) {
        if (cause != null) {
            log.warn("systemd: cannot send to {}: {}: {}", socket, message.replace('\n', ' '), cause.toString());
        }
    }

    /** A newline would start another assignment: a status is one line. */
    private static String oneLine(String status) {
        return status.replace('\n', ' ').replace('\r', ' ');
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(SEND_TIMEOUT_MILLIS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "SystemdNotify[" + socket + "]";
    }
}
