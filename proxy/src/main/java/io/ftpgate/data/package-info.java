/**
 * Data connections: choosing a port from the configured range, listening for exactly one
 * expected peer (named by a load balancer's PROXY protocol header where data connections pass
 * through one), connecting out, and relaying bytes between the two legs — spliced in the kernel
 * where the transport allows, copied otherwise — with back-pressure and stream-mode EOF semantics
 * (RFC 959 §3.4.1: the sender's close ends the file). All of it runs on the control session's
 * event loop, and sockets are opened after the loop's current I/O batch ({@link io.ftpgate.data.NewSockets});
 * nothing here knows FTP commands.
 */
package io.ftpgate.data;
