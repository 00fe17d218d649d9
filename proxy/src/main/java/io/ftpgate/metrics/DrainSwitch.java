package io.ftpgate.metrics;

/**
 * Starts and ends the gateway's drain ({@code POST /drain}, {@code POST /undrain} on the metrics
 * endpoint, answered to loopback clients only). Each returns one line for the person who asked.
 */
public interface DrainSwitch {
    String drain();

    String undrain();
}
