package io.ftpgate.log;

import ch.qos.logback.core.PropertyDefinerBase;

/**
 * The level of the logger {@code ftpgate.xferlog} ({@code logback.xml}): {@code INFO} when
 * {@code FTPGATE_XFERLOG} names a file, {@code OFF} when it is unset or {@code /dev/null}, so that
 * no xferlog line is built and written only to be thrown away. The variable is looked up where
 * logback looks it up for the appender's file: the context's properties, the system properties
 * ({@link LogFormat#oneShot()}), then the environment.
 */
public final class XferlogLevel extends PropertyDefinerBase {

    @Override
    public String getPropertyValue() {
        String file = getContext().getProperty(LogFormat.XFERLOG);
        if (file == null) {
            file = System.getProperty(LogFormat.XFERLOG);
        }
        if (file == null) {
            file = System.getenv(LogFormat.XFERLOG);
        }
        return file == null || file.isEmpty() || file.equals("/dev/null") ? "OFF" : "INFO";
    }
}
