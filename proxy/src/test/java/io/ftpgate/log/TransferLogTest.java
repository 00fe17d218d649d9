package io.ftpgate.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ftpgate.metrics.GatewayMetrics.Outcome;
import io.ftpgate.metrics.GatewayMetrics.TransferKind;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transfer record as each format writes it, through the real {@code logback.xml} (a logger
 * context of the test's own, with the environment variables given as its properties).
 */
class TransferLogTest {
    private static final ZonedDateTime END = ZonedDateTime.of(2026, 12, 5, 11, 6, 33, 0, ZoneOffset.UTC);

    @TempDir
    Path dir;

    @Test
    void textIsTodaysOneLine() throws Exception {
        String out = logTransfers(Map.of());
        assertThat(out.lines().toList()).hasSize(2);
        assertThat(out.lines().findFirst().orElseThrow()).endsWith(" INFO  - session: session 7: transfer client=198.51.100.7"
                + " server=203.0.113.10 download RETR \"pub/a b.iso\" bytes=1048576 seconds=2.250 mode=passive path=relay relay=copy(tls) completed");
        assertThat(out.lines().skip(1).findFirst().orElseThrow()).endsWith("session 7: transfer client=198.51.100.7"
                + " server=203.0.113.10 upload STOR \"in\\x09x é\" bytes=unknown seconds=0.020 mode=active path=kernel failed"
                + " reason=data_reset");
    }

    @Test
    void jsonIsOneObjectPerLineWithTheFactsAsFields() throws Exception {
        String out = logTransfers(Map.of("FTPGATE_LOG_FORMAT", "json"));
        List<JsonNode> lines = out.lines().map(TransferLogTest::json).toList();
        assertThat(lines).hasSize(2);
        JsonNode first = lines.get(0);
        assertThat(first.get("level").asText()).isEqualTo("INFO");
        assertThat(first.get("logger_name").asText()).isEqualTo("ftpgate.session");
        assertThat(first.get("message").asText()).startsWith("session 7: transfer client=198.51.100.7");
        assertThat(first.get("session").asLong()).isEqualTo(7);
        assertThat(first.get("event").asText()).isEqualTo("transfer");
        assertThat(first.get("client").asText()).isEqualTo("198.51.100.7");
        assertThat(first.get("server").asText()).isEqualTo("203.0.113.10");
        assertThat(first.get("file").asText()).isEqualTo("pub/a b.iso");
        assertThat(first.get("bytes").asLong()).isEqualTo(1_048_576);
        assertThat(first.get("seconds").asDouble()).isEqualTo(2.25);
        assertThat(first.get("outcome").asText()).isEqualTo("completed");
        assertThat(first.get("relay").asText()).isEqualTo("copy(tls)");
        assertThat(first.has("reason")).isFalse();
        JsonNode second = lines.get(1);
        assertThat(second.get("file").asText()).as("escaped as in the text line, UTF-8 shown").isEqualTo("in\\x09x é");
        assertThat(second.get("reason").asText()).isEqualTo("data_reset");
        assertThat(second.has("bytes")).as("unknown on the kernel path").isFalse();
        assertThat(second.has("relay")).as("nothing relayed on the kernel path").isFalse();
        assertThat(first.has("thread_name")).isFalse();
    }

    @Test
    void xferlogFileGetsWuFtpdLines() throws Exception {
        Path xferlog = dir.resolve("xferlog");
        logTransfers(Map.of("FTPGATE_XFERLOG", xferlog.toString()));
        assertThat(Files.readAllLines(xferlog)).containsExactly(
                "Sat Dec  5 11:06:33 2026 3 198.51.100.7 1048576 pub/a_b.iso b _ o r * ftp 0 * c",
                "Sat Dec  5 11:06:33 2026 1 198.51.100.7 0 in\\x09x_é b _ i r * ftp 0 * i");
    }

    /** Unset (or a one-shot run's /dev/null): the logger is off, so no line is built to be thrown away. */
    @Test
    void xferlogIsOffWithoutAFile() throws Exception {
        assertThat(xferlogEnabled(Map.of())).isFalse();
        assertThat(xferlogEnabled(Map.of("FTPGATE_XFERLOG", "/dev/null"))).isFalse();
        assertThat(xferlogEnabled(Map.of("FTPGATE_XFERLOG", dir.resolve("xferlog").toString()))).isTrue();
    }

    @Test
    void listingsHaveNoXferlogLine() {
        assertThat(XferlogLine.of(END, 1, InetAddress.getLoopbackAddress(), 10, "", "LIST", true)).isEmpty();
        assertThat(XferlogLine.of(END, 1, InetAddress.getLoopbackAddress(), 10, "x", "APPE", true))
                .get().hasToString("Sat Dec  5 11:06:33 2026 1 127.0.0.1 10 x b _ i r * ftp 0 * c");
    }

    @Test
    void anUnknownFormatIsRefusedBeforeLogbackWouldSwallowEverything() {
        assertThat(LogFormat.problem(Map.of())).isEmpty();
        assertThat(LogFormat.problem(Map.of("FTPGATE_LOG_FORMAT", "json"))).isEmpty();
        assertThat(LogFormat.problem(Map.of("FTPGATE_LOG_FORMAT", "yaml")))
                .contains("environment variable FTPGATE_LOG_FORMAT=yaml: must be text or json");
    }

    /** Two transfers through logback.xml configured with these "environment variables"; stdout. */
    private String logTransfers(Map<String, String> environment) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        environment.forEach(context::putProperty);
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(TransferLog.class.getResource("/logback.xml"));
            TransferLog log = new TransferLog(context.getLogger("ftpgate.session"), context.getLogger("ftpgate.xferlog"));
            log.write(() -> END, 7, InetAddress.getByName("198.51.100.7"), InetAddress.getByName("203.0.113.10"),
                    TransferKind.DOWNLOAD, new FtpCommand("RETR", "pub/a b.iso"), 1_048_576, 2_250_000_000L, "PASSIVE",
                    false, "copy(tls)", Outcome.COMPLETED, null);
            log.write(() -> END, 7, InetAddress.getByName("198.51.100.7"), InetAddress.getByName("203.0.113.10"),
                    TransferKind.UPLOAD, new FtpCommand("STOR", "in\tx \u00c3\u00a9"), 0, 20_000_000L, "ACTIVE",
                    true, null, Outcome.FAILED, Reason.DATA_RESET);
        } finally {
            context.stop();
            System.setOut(stdout);
        }
        assertThat(context.getStatusManager().getCopyOfStatusList()).as("logback's own complaints")
                .noneMatch(s -> s.getLevel() >= ch.qos.logback.core.status.Status.WARN);
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static boolean xferlogEnabled(Map<String, String> environment) throws Exception {
        LoggerContext context = new LoggerContext();
        environment.forEach(context::putProperty);
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(TransferLog.class.getResource("/logback.xml"));
            return context.getLogger("ftpgate.xferlog").isInfoEnabled();
        } finally {
            context.stop();
        }
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

}
