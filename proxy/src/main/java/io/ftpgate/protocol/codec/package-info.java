/**
 * Netty adapters on top of the pure protocol core. {@link io.ftpgate.protocol.codec.FtpLineDecoder}
 * frames the control connection (Telnet NVT per RFC 959 / RFC 854, per-direction length limit,
 * NUL and bare-LF refusal); {@link io.ftpgate.protocol.codec.FtpCommandDecoder} (client leg) and
 * {@link io.ftpgate.protocol.codec.FtpReplyDecoder} (server leg) turn lines into commands and
 * replies; {@link io.ftpgate.protocol.codec.FtpMessageEncoder} writes both. Bad input becomes a
 * message ({@link io.ftpgate.protocol.codec.LineError}, {@code BadCommand}, {@code BadReply}), never
 * an exception, so the session decides what to answer.
 */
package io.ftpgate.protocol.codec;
