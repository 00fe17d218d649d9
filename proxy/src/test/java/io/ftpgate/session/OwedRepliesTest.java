package io.ftpgate.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.protocol.FtpReply;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every client command gets exactly one final reply, in command order, or the gateway's fallback. */
class OwedRepliesTest {
    final List<String> out = new ArrayList<>();
    final OwedReplies owed = new OwedReplies(new OwedReplies.Sink() {
        @Override
        public void deliver(FtpReply reply) {
            out.add(reply.code() + "");
        }

        @Override
        public void holdFrom(FtpReply reply) {
            out.add("held " + reply.code());
        }
    }, o -> FtpReply.of(425, "fallback for " + o.verb));

    @Test
    void aReplyForALaterCommandWaitsForTheOlderOnesFinalReply() {
        OwedReplies.Owed pasv = owed.open("PASV");
        owed.exchangeStarted(pasv);
        OwedReplies.Owed abor = owed.open("ABOR");
        owed.exchangeStarted(abor);
        owed.deliver(abor, FtpReply.of(225, "abort"));
        assertThat(out).isEmpty();
        owed.deliver(pasv, FtpReply.of(227, "passive"));
        assertThat(out).containsExactly("227", "225");
    }

    @Test
    void aCommandWhoseWorkEndsUnansweredGetsTheFallbackBeforeLaterReplies() {
        OwedReplies.Owed pasv = owed.open("PASV");
        owed.exchangeStarted(pasv);
        OwedReplies.Owed abor = owed.open("ABOR");
        owed.exchangeStarted(abor);
        owed.deliver(abor, FtpReply.of(225, "abort"));
        owed.exchangeCompleted(abor);
        owed.exchangeCompleted(pasv);
        assertThat(out).containsExactly("425", "225");
    }

    @Test
    void preliminaryRepliesGoOutAtOnceAndAnAnsweredCommandGetsNoFallback() {
        OwedReplies.Owed retr = owed.open("RETR");
        owed.exchangeStarted(retr);
        owed.deliver(retr, FtpReply.of(150, "opening"));
        owed.hold(retr, FtpReply.of(226, "done"));
        owed.exchangeCompleted(retr);
        owed.settle(retr);
        assertThat(out).containsExactly("150", "held 226");
    }

    @Test
    void aCommandWithoutExchangesIsSettledWhenTheNextIsTaken() {
        OwedReplies.Owed noop = owed.open("NOOP");
        owed.settle(noop);
        owed.deliver(null, FtpReply.of(421, "bye"));
        assertThat(out).containsExactly("425", "421");
    }

    @Test
    void aCommandWithTwoExchangesIsSettledAfterTheLast() {
        OwedReplies.Owed port = owed.open("PORT");
        owed.exchangeStarted(port); // local work
        owed.exchangeStarted(port); // then PORT to the server
        owed.exchangeCompleted(port);
        assertThat(out).isEmpty();
        owed.deliver(port, FtpReply.of(200, "ok"));
        owed.exchangeCompleted(port);
        assertThat(out).containsExactly("200");
    }
}
