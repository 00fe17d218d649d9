package io.ftpgate.metrics;

import java.util.Optional;

/**
 * What {@code /health} and {@code /ready} ask the gateway. A load balancer's health check,
 * keepalived's {@code vrrp_script} and systemd read the answers as 200 or 503.
 */
public interface HealthProbes {
    /** Whether the gateway still works: its event loops run a task in time. */
    boolean alive();

    /**
     * Empty when the gateway takes new sessions; otherwise why not, in a few words for people
     * ("draining", "listener main 0.0.0.0:21 not bound", "firewall not usable").
     */
    Optional<String> notReady();
}
