/**
 * Test layer (d): ftpgate as users meet it. Each {@code *IT} class builds a
 * {@link io.ftpgate.testing.Testbed} — client, gateway and server network namespaces, vsftpd, and
 * the shaded jar in the gateway namespace behind a firewall that drops every connection ftpgate
 * has not leased — and drives it with curl, lftp and a scripted control session. Root only; tagged
 * {@code netns}, run by failsafe in {@code mvn verify}. {@code DirectTransferIT} is the control
 * experiment without ftpgate: if it fails, suspect the machine or the harness, not the gateway.
 */
package io.ftpgate.e2e;
