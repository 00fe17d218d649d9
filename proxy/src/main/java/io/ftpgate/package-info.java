/**
 * The daemon's edge: command line ({@link io.ftpgate.Main}), the wiring of event loops, listeners,
 * firewall and metrics ({@link io.ftpgate.Gateway}), and the self-contained demo. Nothing imports
 * this package.
 */
package io.ftpgate;
