package io.ftpgate.protocol;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class VerbsTest {

    @ParameterizedTest
    @ValueSource(strings = {"RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD", "retr"})
    void transferVerbsUseTheDataConnection(String verb) {
        assertThat(Verbs.isTransfer(verb)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"PORT", "PASV", "EPSV", "MLST", "CWD", "ABOR", "REST", ""})
    void othersDoNot(String verb) {
        assertThat(Verbs.isTransfer(verb)).isFalse();
    }
}
