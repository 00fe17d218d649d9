package io.ftpgate.data;

/**
 * Why a relayed data connection was copied through ftpgate's buffers instead of spliced
 * ({@code data.relay = splice} is the default); {@link #NONE} for a spliced one. The tag
 * {@code reason} of {@code ftpgate_data_relays_total} and the transfer log's {@code relay} field.
 */
public enum CopyReason {
    /** Spliced: the kernel moved the bytes. */
    NONE,
    /** {@code data.relay = copy}. */
    CONFIGURED,
    /** A TLS leg (PROT P): ftpgate decrypts and encrypts its bytes, so they must pass through it. */
    TLS,
    /** A bandwidth limit ({@code abuse.bandwidth}): shaping sees only bytes that pass through ftpgate. */
    BANDWIDTH,
    /** No native epoll transport, or Netty's pipe fields out of reach ({@link Splice#pipesOwnable()}). */
    TRANSPORT,
    /** The legs could not be spliced when they met (one already closed, or not on one event loop). */
    LEGS
}
