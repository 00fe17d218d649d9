package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpParseException;
import io.ftpgate.protocol.FtpReply;
import io.ftpgate.protocol.LogText;
import io.ftpgate.protocol.ReplyAssembler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/**
 * Server leg, after {@link FtpLineDecoder}: lines are assembled into {@link FtpReply}s
 * (RFC 959 §4.2 multi-line replies included); a line that breaks the reply grammar becomes a
 * {@link BadReply}; {@link LineError}s pass through. One instance per connection (it holds the
 * open reply).
 */
public final class FtpReplyDecoder extends MessageToMessageDecoder<Object> {

    private final ReplyAssembler assembler;

    /** @param maxLines the most lines one reply may have */
    public FtpReplyDecoder(int maxLines) {
        super(Object.class);
        this.assembler = new ReplyAssembler(maxLines);
    }

    @Override
    public boolean acceptInboundMessage(Object msg) {
        return msg instanceof String;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        String line = (String) msg;
        try {
            assembler.accept(line).ifPresent(out::add);
        } catch (FtpParseException e) {
            out.add(new BadReply(LogText.escape(line), e));
        }
    }
}
