package io.ftpgate.config;

/** The configuration cannot be used; the message names where (file, line) and which key. */
public final class ConfigError extends Exception {
    public ConfigError(String message) {
        super(message);
    }
}
