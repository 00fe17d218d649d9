package io.ftpgate.protocol;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ForwardLoginTest {

    @ParameterizedTest(name = "[{0}]")
    @CsvSource(delimiter = ';', value = {
            "anonymous@ftp.example.net;       anonymous;    ftp.example.net; 21;   ftp.example.net:21",
            "anonymous@203.0.113.2:2121;      anonymous;    203.0.113.2;     2121; 203.0.113.2:2121",
            "ann@[2001:db8:2::2];             ann;          2001:db8:2::2;   21;   [2001:db8:2::2]:21",
            "ann@[2001:db8:2::2]:990;         ann;          2001:db8:2::2;   990;  [2001:db8:2::2]:990",
            "me@corp.example@ftp.example.net; me@corp.example; ftp.example.net; 21; ftp.example.net:21",
            "'  bob@host  ';                  bob;          host;            21;   host:21",
    })
    void parsesUserAtHost(String arg, String user, String host, int port, String endpoint) throws FtpParseException {
        ForwardLogin l = ForwardLogin.parse(arg);
        assertThat(l).isEqualTo(new ForwardLogin(user, host, port));
        assertThat(l.endpointText()).isEqualTo(endpoint);
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"anonymous", "@host", "user@", "user@host:", "user@host:99999", "user@host:0",
            "user@host:2x", "user@2001:db8::1", "user@[2001:db8::1", "user@[2001:db8::1]x", "user@[]"})
    void refusesWhatNamesNoServer(String arg) {
        assertThat(catchThrowableOfType(FtpParseException.class, () -> ForwardLogin.parse(arg))).isNotNull();
    }
}
