/**
 * The benchmark (not a test): ftpgate against plain routing and the kernel's conntrack FTP helper
 * in network namespaces, printed as a table of medians and ratios to plain routing. {@link
 * io.ftpgate.bench.Benchmark} is the entry point; the classes it runs inside namespaces ({@link
 * io.ftpgate.bench.SessionLoad}, {@link io.ftpgate.bench.ScaleClients}, {@link
 * io.ftpgate.bench.ScaleFtpServer}) use the JDK only.
 */
package io.ftpgate.bench;
