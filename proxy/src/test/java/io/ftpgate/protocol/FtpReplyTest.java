package io.ftpgate.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class FtpReplyTest {

    @Test
    void singleLine() {
        FtpReply reply = FtpReply.of(220, "ftpgate ready");
        assertThat(reply.lines()).containsExactly("220 ftpgate ready");
        assertThat(reply.text()).isEqualTo("ftpgate ready");
        assertThat(reply.toWire()).isEqualTo("220 ftpgate ready\r\n");
    }

    @Test
    void multiLineFollowsRfc959Section42() {
        FtpReply reply = FtpReply.of(211, "Features:\n MDTM\n211 looks like the end\n211\n211-fine\nEnd");
        assertThat(reply.lines()).containsExactly(
                "211-Features:", " MDTM", " 211 looks like the end", " 211", "211-fine", "211 End");
        assertThat(reply.text()).isEqualTo("Features:");
        assertThat(reply.toWire()).isEqualTo(
                "211-Features:\r\n MDTM\r\n 211 looks like the end\r\n 211\r\n211-fine\r\n211 End\r\n");
    }

    @Test
    void crlfInTextIsALineBreakToo() {
        assertThat(FtpReply.of(230, "a\r\nb").lines()).containsExactly("230-a", "230 b");
    }

    @Test
    void textOfBareCode() {
        assertThat(new FtpReply(200, List.of("200")).text()).isEmpty();
    }

    @Test
    void linesAreAnImmutableCopy() {
        List<String> lines = new java.util.ArrayList<>(List.of("200 ok"));
        FtpReply reply = new FtpReply(200, lines);
        lines.add("x");
        assertThat(reply.lines()).containsExactly("200 ok");
        assertThat(reply.lines()).isUnmodifiable();
    }

    @Test
    void constructorRefusesInconsistentReplies() {
        assertThatIllegalArgumentException().isThrownBy(() -> new FtpReply(99, List.of("99 x")));
        assertThatIllegalArgumentException().isThrownBy(() -> new FtpReply(600, List.of("600 x")));
        assertThatIllegalArgumentException().isThrownBy(() -> new FtpReply(200, List.of()));
        assertThatIllegalArgumentException().isThrownBy(() -> new FtpReply(200, List.of("230 x")));
        assertThatIllegalArgumentException().isThrownBy(() -> FtpReply.of(200, "a\rb"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            150, true,  false, false, false, false, false
            226, false, true,  false, false, false, true
            331, false, false, true,  false, false, true
            421, false, false, false, true,  false, true
            550, false, false, false, false, true,  true
            """)
    void classifiesByFirstDigit(int code, boolean prelim, boolean ok, boolean inter, boolean trans, boolean perm,
                                boolean fin) {
        FtpReply reply = FtpReply.of(code, "x");
        assertThat(reply.isPreliminary()).isEqualTo(prelim);
        assertThat(reply.isPositiveCompletion()).isEqualTo(ok);
        assertThat(reply.isPositiveIntermediate()).isEqualTo(inter);
        assertThat(reply.isTransientNegative()).isEqualTo(trans);
        assertThat(reply.isPermanentNegative()).isEqualTo(perm);
        assertThat(reply.isFinal()).isEqualTo(fin);
    }
}
