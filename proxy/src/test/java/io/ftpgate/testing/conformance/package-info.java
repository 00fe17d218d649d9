/**
 * The clients of the conformance matrix ({@code e2e.ConformanceIT}): curl, lftp, Python's ftplib
 * and wget behind one {@link io.ftpgate.testing.conformance.ConformanceClient} interface, each
 * running the {@link io.ftpgate.testing.conformance.Operation operations} it can in as few control
 * sessions as it allows, with one {@link io.ftpgate.testing.conformance.Outcome} per operation and
 * the session's local files in {@link io.ftpgate.testing.conformance.SessionFiles}.
 */
package io.ftpgate.testing.conformance;
