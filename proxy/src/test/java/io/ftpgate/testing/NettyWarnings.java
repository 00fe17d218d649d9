package io.ftpgate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test in which an exception reached the tail of a Netty pipeline ("An exceptionCaught()
 * event was fired, and it reached at the tail of the pipeline") or a Netty task or listener threw
 * ("A task raised an exception", "An exception was thrown by ... operationComplete()"): every
 * error of a session's channels and callbacks must be handled, with the session's id, by ftpgate.
 * Use with {@code @RegisterExtension}.
 */
public final class NettyWarnings implements BeforeEachCallback, AfterEachCallback {
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Logger netty = (Logger) LoggerFactory.getLogger("io.netty");

    @Override
    public void beforeEach(ExtensionContext context) {
        events.list.clear();
        events.start();
        netty.addAppender(events);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        netty.detachAppender(events);
        events.stop();
        assertThat(unhandled()).as("exceptions left to Netty").isEmpty();
    }

    /** The Netty warnings about unhandled exceptions logged so far in this test. */
    public List<String> unhandled() {
        return events.list.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(e -> e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
                        : ": " + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage()))
                .filter(m -> m.contains("reached at the tail of the pipeline") || m.contains("A task raised an exception")
                        || m.contains("An exception was thrown by"))
                .toList();
    }
}
