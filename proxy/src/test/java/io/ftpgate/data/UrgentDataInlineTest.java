package io.ftpgate.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.ftpgate.protocol.codec.FtpCommandDecoder;
import io.ftpgate.protocol.codec.FtpLineDecoder;
import io.ftpgate.protocol.FtpCommand;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both transports read TCP urgent data in line on control connections: the line end of an ABOR
 * sent the way Python's ftplib sends it (last byte urgent) and the DM of a Telnet Synch sent as
 * urgent data (RFC 959 §4.1.3, RFC 854) reach the framer, so the commands come out whole.
 */
class UrgentDataInlineTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"epoll", "nio"})
    void urgentBytesReachTheFramer(String name) throws Exception {
        Transport transport = name.equals("nio") ? Transport.nio() : epoll();
        assertThat(transport.canInlineUrgentData()).isTrue();
        BlockingQueue<Object> commands = new LinkedBlockingQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        try {
            ServerBootstrap b = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new FtpLineDecoder(512, true), new FtpCommandDecoder(),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            commands.add(msg);
                                        }
                                    });
                        }
                    });
            transport.inlineUrgentData(b);
            Channel acceptor = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            try (Socket s = new Socket("127.0.0.1", ((InetSocketAddress) acceptor.localAddress()).getPort())) {
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                // ftplib: sendall(b"ABOR\r\n", MSG_OOB) — the last byte is the urgent one.
                out.write("ABOR\r".getBytes());
                out.flush();
                Thread.sleep(50); // its own segment, so the urgent byte is not merged away
                s.sendUrgentData('\n');
                // RFC 959's Synch: IAC IP, then IAC DM with DM as urgent data, then the command.
                out.write(new byte[] {(byte) 0xff, (byte) 0xf4, (byte) 0xff});
                out.flush();
                Thread.sleep(50);
                s.sendUrgentData(0xf2);
                out.write("ABOR\r\nNOOP\r\n".getBytes());
                out.flush();
                for (int i = 0; i < 3; i++) {
                    Object m = commands.poll(5, TimeUnit.SECONDS);
                    assertThat(m).as("command %d", i).isInstanceOf(FtpCommand.class);
                    assertThat(((FtpCommand) m).verb()).isEqualTo(i < 2 ? "ABOR" : "NOOP");
                    assertThat(((FtpCommand) m).argument()).isEmpty();
                }
            }
            acceptor.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static Transport epoll() {
        assumeThat(Epoll.isAvailable()).as("native epoll transport").isTrue();
        return Transport.detect();
    }
}
