package io.ftpgate.testing.conformance;

/**
 * What a client reported for one operation: success as the client judged it (exit code, its own
 * result line) and the transcript (command line, output, control dialogue) for assertion messages.
 */
public record Outcome(boolean ok, String transcript) {
}
