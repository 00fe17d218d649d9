/**
 * Metrics: the domain interface the gateway reports through ({@link io.ftpgate.metrics.GatewayMetrics}),
 * its Micrometer implementation with the one catalogue of meters, and the HTTP endpoint that
 * serves the Prometheus exposition. Labels take values from enums only, never a client address,
 * user, file or session id, so the number of series stays bounded.
 */
package io.ftpgate.metrics;
