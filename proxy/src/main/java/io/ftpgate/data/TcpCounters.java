package io.ftpgate.data;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.unix.RawUnixChannelOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The kernel's byte counters of one TCP connection, from {@code getsockopt(TCP_INFO)}: what a
 * spliced connection moved, which never passes through the JVM. Offsets are those of Linux's
 * {@code struct tcp_info} ({@code linux/tcp.h}, both fields since Linux 4.1).
 *
 * @param bytesAcked bytes sent and acknowledged by the peer ({@code tcpi_bytes_acked})
 * @param bytesReceived data bytes received in order from the peer ({@code tcpi_bytes_received},
 *     less the one sequence number the kernel counts for the peer's FIN)
 */
record TcpCounters(long bytesAcked, long bytesReceived) {
    static final TcpCounters NONE = new TcpCounters(0, 0);

    private static final int IPPROTO_TCP = 6;
    /** {@code tcpi_state} values (TCP_TIME_WAIT, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING) after the peer's FIN. */
    private static final int TIME_WAIT = 6;
    private static final int CLOSE_WAIT = 8;
    private static final int LAST_ACK = 9;
    private static final int CLOSING = 11;
    private static final int TCP_INFO = 11;
    private static final int BYTES_ACKED = 120;
    private static final int BYTES_RECEIVED = 128;
    private static final RawUnixChannelOption OPTION =
            new RawUnixChannelOption("TCP_INFO", IPPROTO_TCP, TCP_INFO, BYTES_RECEIVED + Long.BYTES);

    /** The counters of {@code ch} now; null if it is closed or not a native (epoll) channel. */
    static TcpCounters of(Channel ch) {
        if (!ch.isOpen()) {
            return null;
        }
        try {
            ByteBuffer info = ch.config().getOption(OPTION);
            if (info == null || info.remaining() < BYTES_RECEIVED + Long.BYTES) {
                return null;
            }
            info.order(ByteOrder.nativeOrder());
            int state = info.get(0) & 0xff;
            boolean finReceived = state == TIME_WAIT || state == CLOSE_WAIT || state == LAST_ACK || state == CLOSING;
            long received = info.getLong(BYTES_RECEIVED);
            return new TcpCounters(info.getLong(BYTES_ACKED), finReceived && received > 0 ? received - 1 : received);
        } catch (ChannelException | UnsupportedOperationException e) {
            return null;
        }
    }
}
