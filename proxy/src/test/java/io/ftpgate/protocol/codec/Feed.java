package io.ftpgate.protocol.codec;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Feeds bytes into a fresh pipeline in chosen pieces and collects what comes out, in a form that
 * can be compared (parse errors by kind, since exceptions have no equals).
 */
final class Feed {

    private Feed() {
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    static List<Object> whole(Supplier<ChannelHandler[]> pipeline, byte[] input) {
        return split(pipeline, input, new int[0]);
    }

    static List<Object> byteByByte(Supplier<ChannelHandler[]> pipeline, byte[] input) {
        int[] cuts = new int[Math.max(0, input.length - 1)];
        Arrays.setAll(cuts, i -> i + 1);
        return split(pipeline, input, cuts);
    }

    /** @param cuts positions (any order, duplicates and out-of-range values allowed) where a write ends */
    static List<Object> split(Supplier<ChannelHandler[]> pipeline, byte[] input, int[] cuts) {
        int[] sorted = Arrays.stream(cuts).filter(c -> c > 0 && c < input.length).sorted().distinct().toArray();
        EmbeddedChannel channel = new EmbeddedChannel(pipeline.get());
        int from = 0;
        for (int cut : sorted) {
            channel.writeInbound(Unpooled.wrappedBuffer(input, from, cut - from));
            from = cut;
        }
        if (from < input.length) {
            channel.writeInbound(Unpooled.wrappedBuffer(input, from, input.length - from));
        }
        List<Object> out = new ArrayList<>();
        for (Object msg; (msg = channel.readInbound()) != null; ) {
            out.add(comparable(msg));
        }
        channel.finishAndReleaseAll();
        return out;
    }

    private static Object comparable(Object msg) {
        if (msg instanceof BadCommand bad) {
            return "BadCommand[" + bad.escapedLine() + ", " + bad.error().kind() + "]";
        }
        if (msg instanceof BadReply bad) {
            return "BadReply[" + bad.escapedLine() + ", " + bad.error().kind() + "]";
        }
        return msg;
    }
}
