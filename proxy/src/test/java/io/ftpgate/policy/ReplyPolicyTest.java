package io.ftpgate.policy;

import io.ftpgate.protocol.FtpReply;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ReplyPolicyTest {

    @ParameterizedTest(name = "{0} answering {1}: {2}")
    @CsvSource(nullValues = "-", value = {
            // nothing outstanding: only 421
            "421, -,    ok",
            "227, -,    unsolicited_reply",
            "150, -,    unsolicited_reply",
            "226, -,    unsolicited_reply",
            "200, -,    unsolicited_reply",
            // data and protocol codes answer exactly their command
            "227, PASV, ok",
            "227, EPSV, unexpected_reply",
            "227, USER, unexpected_reply",
            "229, EPSV, ok",
            "229, PASV, unexpected_reply",
            "229, LIST, unexpected_reply",
            "228, LPSV, ok",
            "228, PASV, unexpected_reply",
            "234, AUTH, ok",
            "234, USER, unexpected_reply",
            "234, PBSZ, unexpected_reply",
            // 1xx only where a data connection opens (and 120 for REIN)
            "150, RETR, ok",
            "125, STOR, ok",
            "150, LIST, ok",
            "150, NLST, ok",
            "150, MLSD, ok",
            "150, APPE, ok",
            "150, STOU, ok",
            "110, RETR, ok",
            "150, NOOP, unexpected_reply",
            "150, USER, unexpected_reply",
            "150, PASS, unexpected_reply",
            "125, CWD,  unexpected_reply",
            "150, ABOR, unexpected_reply",
            "120, REIN, ok",
            "120, USER, unexpected_reply",
            // what real servers send besides stays allowed, whatever the command
            "226, ABOR, ok",
            "225, ABOR, ok",
            "426, RETR, ok",
            "226, RETR, ok",
            "530, PASV, ok",
            "500, EPSV, ok",
            "421, RETR, ok",
            "331, USER, ok",
            "250, CWD,  ok",
    })
    void checksTheCodeAgainstTheOutstandingCommand(int code, String verb, String verdict) {
        var r = ReplyPolicy.check(verb, FtpReply.of(code, "text"));
        assertThat(r.map(Reason::tag).orElse("ok")).isEqualTo(verdict);
    }

    @ParameterizedTest(name = "greeting {0}: {1}")
    @CsvSource({"220, ok", "120, ok", "421, ok", "530, ok", "227, unexpected_reply", "150, unexpected_reply",
            "226, unexpected_reply", "234, unexpected_reply", "331, unexpected_reply"})
    void checksTheGreeting(int code, String verdict) {
        var r = ReplyPolicy.checkGreeting(FtpReply.of(code, "text"));
        assertThat(r.map(Reason::tag).orElse("ok")).isEqualTo(verdict);
    }
}
