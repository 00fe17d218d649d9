package io.ftpgate.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.function.Consumer;

/**
 * The last handler of a data connection the gateway opens, until the relay takes the connection
 * over (its own handler is then the last): an error on the connection (a read on a socket whose
 * connect failed, say) ends the transfer with its reason at once, instead of reaching the end of
 * the pipeline as a Netty warning while the transfer waits for its deadline.
 */
final class DataLegErrors extends ChannelInboundHandlerAdapter {
    static final String NAME = "data-errors";
    private final Consumer<Throwable> failed;

    DataLegErrors(Consumer<Throwable> failed) {
        this.failed = failed;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
        failed.accept(cause);
    }
}
