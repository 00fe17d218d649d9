/**
 * What the log says beyond one line of text: the transfer record (the classic line, the same as
 * key-value fields for the JSON format, and a wu-ftpd xferlog line for the tools that parse that),
 * and the check of the logging environment ({@code FTPGATE_LOG_FORMAT}). The formats themselves
 * are chosen in {@code logback.xml}; nothing here writes JSON by hand.
 */
package io.ftpgate.log;
