package io.ftpgate.protocol.codec;

import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.FtpParseException;
import io.ftpgate.protocol.LogText;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/**
 * Client leg, after {@link FtpLineDecoder}: each line becomes an {@link FtpCommand}, or a
 * {@link BadCommand} when it is not one; {@link LineError}s pass through. Never throws on input.
 */
public final class FtpCommandDecoder extends MessageToMessageDecoder<Object> {

    public FtpCommandDecoder() {
        super(Object.class);
    }

    @Override
    public boolean acceptInboundMessage(Object msg) {
        return msg instanceof String;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        String line = (String) msg;
        try {
            out.add(FtpCommand.parse(line));
        } catch (FtpParseException e) {
            out.add(new BadCommand(LogText.escapeLine(line), e));
        }
    }
}
