package io.ftpgate;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code --check-config} says, in the words of {@code nginx -t} (admins and their scripts know
 * them): on standard error, so that {@code --print-config > file} keeps only the settings.
 * <pre>
 * ftpgate: the configuration file /etc/ftpgate/ftpgate.conf syntax is ok
 * ftpgate: configuration file /etc/ftpgate/ftpgate.conf test is successful
 * </pre>
 * or the error (file, line and key), then {@code ftpgate: configuration file ... test failed}.
 */
final class ConfigCheckReport {
    private final String file;
    private final PrintStream err;

    ConfigCheckReport(Optional<Path> file, PrintStream err) {
        this.file = file.map(Path::toString).orElse("(none: built-in defaults)");
        this.err = err;
    }

    void syntaxOk() {
        err.println("ftpgate: the configuration file " + file + " syntax is ok");
    }

    void successful() {
        err.println("ftpgate: configuration file " + file + " test is successful");
    }

    void failed() {
        err.println("ftpgate: configuration file " + file + " test failed");
    }
}
