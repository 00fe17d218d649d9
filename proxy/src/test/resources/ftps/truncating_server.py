"""A lying explicit-FTPS server for ftpgate's truncation test.

Usage: truncating_server.py ADDRESS PORT CERT KEY SIZE

Anonymous login after AUTH TLS, PBSZ/PROT, PASV and EPSV. RETR of any name sends SIZE bytes on a
TLS data connection, then closes that connection WITHOUT close_notify (Python's SSLSocket.close()
never calls SSL_shutdown) and still replies "226 Transfer complete": a truncated transfer that
only the missing close_notify reveals (RFC 4217 section 12.6). A gateway that relays it as a
success hands the client a silently truncated file.
"""
import socket
import socketserver
import ssl
import sys

ADDRESS, PORT, CERT, KEY, SIZE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CONTEXT.load_cert_chain(CERT, KEY)


class Session(socketserver.StreamRequestHandler):
    def setup(self):
        self.sock = self.request
        self.file = self.sock.makefile("rb")
        self.listener = None

    def reply(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def handle(self):
        self.reply("220 truncating test server")
        while True:
            raw = self.file.readline()
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            print("<", line, flush=True)
            if verb == "AUTH":
                self.reply("234 go ahead")
                self.sock = CONTEXT.wrap_socket(self.sock, server_side=True)
                self.file = self.sock.makefile("rb")
            elif verb in ("USER", "PASS"):
                self.reply("230 logged in")
            elif verb in ("PBSZ", "PROT", "TYPE", "MODE", "STRU", "NOOP"):
                self.reply("200 ok")
            elif verb == "FEAT":
                self.reply("211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPSV\r\n211 End")
            elif verb in ("PASV", "EPSV"):
                self.listener = socket.create_server((ADDRESS, 0), backlog=1)
                port = self.listener.getsockname()[1]
                if verb == "EPSV":
                    self.reply("229 Entering Extended Passive Mode (|||%d|)" % port)
                else:
                    self.reply("227 Entering Passive Mode (%s,%d,%d)" % (ADDRESS.replace(".", ","), port // 256, port % 256))
            elif verb == "RETR" and self.listener is not None:
                self.reply("150 here it comes")
                conn, _ = self.listener.accept()
                self.listener.close()
                self.listener = None
                data = CONTEXT.wrap_socket(conn, server_side=True)
                data.sendall(b"x" * SIZE)
                data.close()  # no SSL_shutdown: the TCP connection ends without close_notify
                print("> data closed without close_notify after %d bytes" % SIZE, flush=True)
                self.reply("226 Transfer complete")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server((ADDRESS, PORT), Session) as server:
        print("listening", flush=True)
        server.serve_forever()
