package io.ftpgate.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.metrics.GatewayMetrics;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Races of one control session, driven byte by byte on both legs ({@link SessionHarness}): what
 * the client reads is always whole replies, one final reply per command, in command order.
 */
class SessionRacesTest {

    static SessionHarness loggedIn() throws Exception {
        SessionHarness h = new SessionHarness(Map.of());
        h.serverSends("220 ready\r\n");
        assertThat(h.clientReads()).isEqualTo("220 ready\r\n");
        h.clientSends("USER anonymous\r\n");
        assertThat(h.serverReads()).isEqualTo("USER anonymous\r\n");
        h.serverSends("230 logged in\r\n");
        assertThat(h.clientReads()).isEqualTo("230 logged in\r\n");
        return h;
    }

    @Test
    void abortCrossingAnOutstandingReplyKeepsCommandOrder() throws Exception {
        try (SessionHarness h = loggedIn()) {
            h.clientSends("STAT\r\n");
            assertThat(h.serverReads()).isEqualTo("STAT\r\n");
            h.clientSends("ABOR\r\n");
            assertThat(h.serverReads()).as("ABOR goes out at once (RFC 959 4.1.3)").isEqualTo("ABOR\r\n");
            // The server's multi-line STAT reply, cut mid-line, then its ABOR reply in the same segment.
            h.serverSends("211-status\r\n connected\r");
            assertThat(h.clientReads()).as("no half reply").isEmpty();
            h.serverSends("\n211 end\r\n225 ABOR ok\r\n");
            assertThat(h.clientReads()).isEqualTo("211-status\r\n connected\r\n211 end\r\n225 ABOR ok\r\n");
            h.clientSends("NOOP\r\n");
            assertThat(h.serverReads()).isEqualTo("NOOP\r\n");
            h.serverSends("200 ok\r\n");
            assertThat(h.clientReads()).isEqualTo("200 ok\r\n");
        }
    }

    @Test
    void commandsPipelinedBehindAbortWaitForTheirTurn() throws Exception {
        try (SessionHarness h = loggedIn()) {
            h.clientSends("PWD\r\nABOR\r\nNOOP\r\n");
            assertThat(h.serverReads()).as("PWD, ABOR at once; NOOP waits").isEqualTo("PWD\r\nABOR\r\n");
            h.serverSends("257 \"/\"\r\n");
            assertThat(h.clientReads()).isEqualTo("257 \"/\"\r\n");
            h.serverSends("225 ABOR ok\r\n");
            assertThat(h.clientReads()).isEqualTo("225 ABOR ok\r\n");
            assertThat(h.serverReads()).isEqualTo("NOOP\r\n");
            h.serverSends("200 ok\r\n");
            assertThat(h.clientReads()).isEqualTo("200 ok\r\n");
        }
    }

    @Test
    void serverClosingInsideAMultiLineReplyGivesOneWhole421() throws Exception {
        try (SessionHarness h = loggedIn()) {
            h.clientSends("FEAT\r\n");
            assertThat(h.serverReads()).isEqualTo("FEAT\r\n");
            h.serverSends("211-Features:\r\n EPSV\r\n");
            h.server.close();
            h.runTasks();
            assertThat(h.clientReads()).isEqualTo("421 Service not available: the FTP server closed the connection\r\n");
            assertThat(h.client.isOpen()).isFalse();
            assertThat(h.registry.size()).isZero();
        }
    }

    @Test
    void clientClosingInsideACommandEndsTheSession() throws Exception {
        try (SessionHarness h = loggedIn()) {
            h.clientSends("RETR half");
            h.client.close();
            h.runTasks();
            assertThat(h.serverReads()).as("half a command is never sent").isEmpty();
            assertThat(h.server.isOpen()).isFalse();
            assertThat(h.registry.size()).isZero();
        }
    }

    @Test
    void aFaultInAnAsynchronousCallbackEndsTheSessionWithItsReason() throws Exception {
        // The upstream connect's callback throws (here: its metric); the session must not stall.
        try (SessionHarness h = new SessionHarness(Map.of(), m -> failing(m, "upstreamConnected"))) {
            String said = h.clientReads();
            assertThat(said).startsWith("421 Service not available: internal error in the gateway (session ")
                    .contains("see its log");
            assertThat(h.client.isOpen()).isFalse();
            assertThat(h.registry.size()).isZero();
            assertThat(h.meters.find("ftpgate.refused").tag("reason", "internal_error").counter().count()).isEqualTo(1);
        }
    }

    /** {@code metrics}, except that {@code method} throws. */
    static GatewayMetrics failing(GatewayMetrics metrics, String method) {
        return (GatewayMetrics) Proxy.newProxyInstance(GatewayMetrics.class.getClassLoader(),
                new Class<?>[] {GatewayMetrics.class}, (proxy, m, args) -> {
                    if (m.getName().equals(method)) {
                        throw new IllegalStateException("injected fault in " + method);
                    }
                    try {
                        return m.invoke(metrics, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
