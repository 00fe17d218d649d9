package io.ftpgate.log;

import io.ftpgate.metrics.GatewayMetrics;
import io.ftpgate.policy.Reason;
import io.ftpgate.protocol.FtpCommand;
import io.ftpgate.protocol.LogText;
import java.net.InetAddress;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The record of one transfer, written once when it ends, in three forms: the classic line of the
 * session log (logger {@code ftpgate.session}), the same facts as key-value pairs (fields of the
 * JSON format: {@code session}, {@code event}, {@code client}, {@code server}, {@code kind},
 * {@code verb}, {@code file}, {@code bytes}, {@code seconds}, {@code mode}, {@code path},
 * {@code relay}, {@code outcome}, {@code reason}), and a wu-ftpd xferlog line (logger {@code ftpgate.xferlog},
 * which {@code logback.xml} sends to the file {@code FTPGATE_XFERLOG}, if set, and nowhere else).
 */
public final class TransferLog {
    private static final TransferLog DEFAULT = new TransferLog(
            LoggerFactory.getLogger("ftpgate.session"), LoggerFactory.getLogger("ftpgate.xferlog"));

    private final Logger session;
    private final Logger xferlog;

    TransferLog(Logger session, Logger xferlog) {
        this.session = session;
        this.xferlog = xferlog;
    }

    /**
     * A transfer ended: {@code bytes} both ways (unknown, and said so, on the kernel path, where
     * they never reach ftpgate), {@code server} null before the server leg is known, {@code relay}
     * how a relayed one moved its bytes ({@code splice}, or {@code copy(why)}; ignored on the kernel path).
     */
    public static void ended(long id, InetAddress client, InetAddress server, GatewayMetrics.TransferKind kind,
                             FtpCommand command, long bytes, long elapsedNanos, String mode, boolean kernel, String relay,
                             GatewayMetrics.Outcome outcome, Reason failure) {
        DEFAULT.write(ZonedDateTime::now, id, client, server, kind, command, bytes, elapsedNanos, mode, kernel,
                relay, outcome, failure);
    }

    /** @param end the time the transfer ended, asked only for an xferlog line */
    void write(Supplier<ZonedDateTime> end, long id, InetAddress client, InetAddress server, GatewayMetrics.TransferKind kind,
               FtpCommand command, long bytes, long elapsedNanos, String mode, boolean kernel, String relay,
               GatewayMetrics.Outcome outcome, Reason failure) {
        String clientText = client.getHostAddress();
        String serverText = server == null ? "-" : server.getHostAddress();
        String file = LogText.escape(command.argument());
        String seconds = DecimalSeconds.of(elapsedNanos, 3);
        String kindText = lower(kind);
        String modeText = mode.toLowerCase(Locale.ROOT);
        String outcomeText = lower(outcome);
        String path = kernel ? "kernel" : "relay";
        String relayed = kernel ? "" : " relay=" + relay;
        LoggingEventBuilder event = session.atInfo()
                .setMessage("session {}: transfer client={} server={} {} {} \"{}\" bytes={} seconds={} mode={} path={}{} {}{}")
                .addArgument(id).addArgument(clientText).addArgument(serverText)
                .addArgument(kindText).addArgument(command.verb()).addArgument(file)
                .addArgument(kernel ? "unknown" : String.valueOf(bytes)).addArgument(seconds)
                .addArgument(modeText).addArgument(path).addArgument(relayed).addArgument(outcomeText)
                .addArgument(failure == null ? "" : " reason=" + failure.tag())
                .addKeyValue("session", id).addKeyValue("event", "transfer")
                .addKeyValue("client", clientText).addKeyValue("server", serverText)
                .addKeyValue("kind", kindText).addKeyValue("verb", command.verb())
                .addKeyValue("file", file).addKeyValue("seconds", elapsedNanos / 1e9)
                .addKeyValue("mode", modeText).addKeyValue("path", path)
                .addKeyValue("outcome", outcomeText);
        if (!kernel) {
            event = event.addKeyValue("bytes", bytes).addKeyValue("relay", relay);
        }
        if (failure != null) {
            event = event.addKeyValue("reason", failure.tag());
        }
        event.log();
        if (xferlog.isInfoEnabled()) {
            XferlogLine.of(end.get(), elapsedNanos, client, kernel ? 0 : bytes, file, command.verb(),
                    outcome == GatewayMetrics.Outcome.COMPLETED).ifPresent(line -> xferlog.info("{}", line));
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
