package io.ftpgate.data;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
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

    private final AbstractEpollStreamChannel from;
    private final AbstractEpollStreamChannel to;
    private TcpCounters last = TcpCounters.NONE;

    Splice(Channel from, Channel to) {
        this.from = (AbstractEpollStreamChannel) from;
        this.to = (AbstractEpollStreamChannel) to;
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
        return total;
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
