package io.ftpgate.testing.conformance;

/** One column of the conformance matrix: what a user does in a control session. */
public enum Operation {
    /** LIST of the root. */
    LIST,
    /** Download of {@link io.ftpgate.testing.VsftpdServer#BIG}, compared by SHA-256. */
    RETR,
    /** Upload into the upload directory, compared on the server's disk. */
    STOR,
    /** A partial download continued with REST + RETR. */
    REST,
    /** A 10 MiB RETR aborted with ABOR, then NOOP and another RETR in the same session. */
    ABOR
}
