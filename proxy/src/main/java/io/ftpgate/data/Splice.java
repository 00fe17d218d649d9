package io.ftpgate.data;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.function.Consumer;

/**
 * One direction of a spliced relay: Netty's {@link AbstractEpollStreamChannel#spliceTo} moves what
 * arrives on {@code from} into a pipe and from the pipe into {@code to}, in the kernel. Both
 * channels must be on one event loop (the session's); Netty 4.2's epoll is level-triggered, as
 * {@code spliceTo} requires.
 *
 * <p>What Netty leaves to the caller, done here:
 * <ul>
 *   <li><b>Back-pressure</b> is Netty's: while a chunk waits in the pipe for {@code to} (a slow
 *       reader), {@code from} stops reading, so the sender is held back by TCP flow control. At
 *       most one pipe (64 KiB) plus the two sockets' kernel buffers are in flight.
 *   <li><b>The end of the stream.</b> Netty notices the peer's FIN (EPOLLRDHUP) after splicing one
 *       chunk, while more bytes may still wait in the socket; without half-closure it would close
 *       the channel and drop them. So {@code from} allows half-closure, and when its input is shut
 *       down the rest is read here ({@link #drainTail}, at most the socket's receive buffer) and
 *       written after the spliced chunks still queued for {@code to}.
 *   <li><b>A closed target</b>: Netty's splice keeps using the target's pipe descriptors after the
 *       target closed them, and a descriptor number is soon reused. So when {@code to} closes,
 *       {@code from} stops reading at once ({@link #fence}).
 *   <li><b>Byte counts</b> never pass the JVM: they are the kernel's ({@link TcpCounters}).
 *   <li><b>The pipe's life.</b> Netty keeps the pipe of a direction on its <em>target</em> channel
 *       ({@code pipeIn}/{@code pipeOut}), makes it on the first chunk and closes it when that
 *       channel closes, but leaves the closed descriptors in the fields. A chunk read from
 *       {@code from} after {@code to} closed (the same epoll batch, a read already pending) would
 *       then go to a closed descriptor number — soon another socket's or pipe's — or, where
 *       {@code to} never had a pipe, get a new pipe that nothing closes (two descriptors leaked).
 *       So the relay owns the pipe's end: when a leg closes its fields are cleared
 *       ({@link #forgetPipe}: a late chunk fails or makes a fresh pipe, never reuses a number), and
 *       when both legs are closed whatever pipe is left on either is closed ({@link #closePipe}).
 *       Netty's {@code FileDescriptor.close} is idempotent, so nothing is closed twice.
 * </ul>
 */
final class Splice {
    /**
     * The most one read event splices in. A pipe holds 16 buffers, each one page fragment of the
     * socket's data (a fragment of up to 32 KiB on loopback), so more than 64 KiB often fits; the
     * kernel takes what fits and the rest waits for the next event.
     */
    private static final int SPLICE_MAX = 1024 * 1024;
    /** What one read of the tail asks for. */
    private static final int CHUNK = 64 * 1024;

    /** Netty's private pipe fields of a target channel, or null if this Netty has none by those names. */
    private static final VarHandle PIPE_IN = pipeField("pipeIn");
    private static final VarHandle PIPE_OUT = pipeField("pipeOut");

    private final AbstractEpollStreamChannel from;
    private final AbstractEpollStreamChannel to;
    private TcpCounters last = TcpCounters.NONE;
    /** {@link #drainTail} read the end of {@code from}'s stream: the count of bytes received is final. */
    private boolean drained;

    Splice(Channel from, Channel to) {
        this.from = (AbstractEpollStreamChannel) from;
        this.to = (AbstractEpollStreamChannel) to;
    }

    /**
     * Whether the relay can own the pipes' life (Netty's fields were found): without that, plain
     * data connections are copied, not spliced.
     */
    static boolean pipesOwnable() {
        return PIPE_IN != null && PIPE_OUT != null;
    }

    /**
     * {@code ch} closed (Netty closed its pipe, if it had one): forget the closed descriptors, so
     * that a chunk still read for it cannot be spliced into a reused descriptor number.
     */
    static void forgetPipe(Channel ch) {
        if (ch instanceof AbstractEpollStreamChannel && pipesOwnable()) {
            PIPE_IN.setVolatile(ch, (FileDescriptor) null);
            PIPE_OUT.setVolatile(ch, (FileDescriptor) null);
        }
    }

    /**
     * Both legs are closed: closes the pipe still on {@code ch} (one made after it closed, which
     * Netty would leave open). Returns whether there was one.
     */
    static boolean closePipe(Channel ch) {
        if (!(ch instanceof AbstractEpollStreamChannel) || !pipesOwnable()) {
            return false;
        }
        boolean open = false;
        for (VarHandle field : new VarHandle[] {PIPE_IN, PIPE_OUT}) {
            FileDescriptor fd = (FileDescriptor) field.getAndSet(ch, (FileDescriptor) null);
            if (fd != null && fd.isOpen()) {
                open = true;
                try {
                    fd.close();
                } catch (IOException e) {
                    // closed anyway (close(2) frees the number even when it reports an error)
                }
            }
        }
        return open;
    }

    private static VarHandle pipeField(String name) {
        try {
            return MethodHandles.privateLookupIn(AbstractEpollStreamChannel.class, MethodHandles.lookup())
                    .findVarHandle(AbstractEpollStreamChannel.class, name, FileDescriptor.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** Starts splicing; {@code failed} is told of a read or write error (not of a close). */
    void start(Consumer<Throwable> failed) {
        from.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        from.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(SPLICE_MAX));
        from.spliceTo(to, Integer.MAX_VALUE).addListener(f -> {
            if (!f.isSuccess() && !(f.cause() instanceof ClosedChannelException)) {
                failed.accept(f.cause());
            }
        });
        from.config().setAutoRead(true);
    }

    /**
     * Reads what is left in {@code from}'s socket after its input was shut down and writes it to
     * {@code target} (not flushed). Returns the bytes read; fails if the connection was reset.
     */
    long drainTail(Channel target) throws IOException {
        FileDescriptor fd = from.fd();
        long total = 0;
        for (;;) {
            ByteBuf buf = from.alloc().directBuffer(CHUNK);
            int n;
            try {
                ByteBuffer nio = buf.internalNioBuffer(0, buf.capacity());
                n = fd.read(nio, nio.position(), nio.limit());
            } catch (IOException e) {
                buf.release();
                throw e;
            }
            if (n <= 0) {
                buf.release();
                break;
            }
            buf.writerIndex(n);
            total += n;
            target.write(buf);
        }
        count();
        drained = true;
        return total;
    }

    /** Whether {@link #drainTail} has read to the end of the stream (the last count holds every byte received). */
    boolean drained() {
        return drained;
    }

    /**
     * {@code to} is closed: stop reading {@code from}. (Not by shutting its input down: Netty
     * 4.2.18 then drops the descriptor from epoll when nothing else is watched, and a later write
     * that has to wait for room fails.)
     */
    void fence() {
        if (!from.isOpen()) {
            return;
        }
        count();
        from.config().setAutoRead(false);
    }

    /** Takes the kernel's counters of {@code from} while its socket is open. */
    void count() {
        TcpCounters now = TcpCounters.of(from);
        if (now != null) {
            last = now;
        }
    }

    /** Bytes received on {@code from} at the last {@link #count()}. */
    long received() {
        return last.bytesReceived();
    }

    /** Bytes received plus bytes acknowledged on {@code from}, now (or when last counted). */
    long progress() {
        count();
        return last.bytesAcked() + last.bytesReceived();
    }
}
