package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpReply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Writes {@link FtpCommand}s (line + CRLF) and {@link FtpReply}s (their wire form) as ISO-8859-1
 * bytes, so bytes read as chars go out unchanged. A 0xFF data byte is sent as {@code IAC IAC}
 * (RFC 854: the control connection is a Telnet NVT), which {@link FtpLineDecoder} reads back as one
 * 0xFF. A char above 0xFF cannot be a wire byte and is sent as {@code ?}, as ISO-8859-1 encoders do.
 * Stateless, so one instance serves every pipeline.
 */
@Sharable
public final class FtpMessageEncoder extends MessageToByteEncoder<Object> {

    public static final FtpMessageEncoder INSTANCE = new FtpMessageEncoder();

    private FtpMessageEncoder() {
        super(Object.class);
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof FtpCommand || msg instanceof FtpReply;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) {
        String wire = msg instanceof FtpCommand command ? command.toLine() + "\r\n" : ((FtpReply) msg).toWire();
        out.ensureWritable(wire.length() + 8);
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            if (c == 0xff) {
                out.writeByte(0xff);
                out.writeByte(0xff);
            } else {
                out.writeByte(c > 0xff ? '?' : c);
            }
        }
    }
}
