"""One FTPS session with Python's ftplib (FTP_TLS, PROT P), for ftpgate's FtpsIT.

Usage: ftplib_ftps.py HOST PORT MODE CAFILE IMPLICIT OP...
  MODE      PASV, EPSV, PORT or EPRT (forced, whatever the address family)
  CAFILE    PEM file of the CA that signed the server's (the gateway's) certificate
  IMPLICIT  1: TLS from the first byte (implicit FTPS), 0: AUTH TLS (explicit)

Operations, in one control session, in the order given:
  LIST                 LIST of the root directory
  RETR:REMOTE:LOCAL    download REMOTE to LOCAL
  STOR:LOCAL:REMOTE    upload LOCAL to REMOTE
  MISSING:REMOTE       RETR of a file that does not exist: expects a 5xx reply
  RAW:REMOTE           RETR that reads the data connection to its end, whatever the end, then
                       the final reply: "bytes=N end=HOW reply=REPLY" (ok only for a 2xx reply)

stdout: one line per operation, "RESULT OP ok DETAIL" or "RESULT OP fail DETAIL"; after a
failure that is not a reply (the connection broke), the remaining operations are not run.
ftplib never resumes the control connection's TLS session on its data connections (cpython#63699).
"""
import ftplib
import hashlib
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from ftplib_session import ModeFTP  # noqa: E402  (the same PASV/EPSV/PORT/EPRT forcing)


class ModeFTPS(ModeFTP, ftplib.FTP_TLS):
    """FTP_TLS with conformance's forced data connection modes, and implicit FTPS."""

    def __init__(self, mode, context, implicit):
        super().__init__(mode)
        self.context = context
        self.implicit = implicit

    def connect(self, host, port):
        if not self.implicit:
            return super().connect(host, port)
        self.host, self.port = host, port
        raw = socket.create_connection((host, port), self.timeout)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(ftp, op):
    verb, _, arg = op.partition(":")
    if verb == "LIST":
        lines = []
        reply = ftp.retrlines("LIST", lines.append)
        return "%s; %d lines: %s" % (reply, len(lines), " | ".join(lines))
    if verb == "RETR":
        remote, _, local = arg.partition(":")
        with open(local, "wb") as out:
            reply = ftp.retrbinary("RETR " + remote, out.write)
        return "%s; sha256=%s" % (reply, sha256(local))
    if verb == "STOR":
        local, _, remote = arg.partition(":")
        with open(local, "rb") as src:
            reply = ftp.storbinary("STOR " + remote, src)
        return "%s; sha256=%s" % (reply, sha256(local))
    if verb == "MISSING":
        try:
            with open("/dev/null", "wb") as out:
                ftp.retrbinary("RETR " + arg, out.write)
        except ftplib.error_perm as e:
            return "refused: %s" % e
        raise ftplib.Error("RETR of a missing file succeeded")
    if verb == "RAW":
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("RETR " + arg)
        got, end = 0, "close_notify"
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            conn.unwrap()
        except Exception as e:  # the end of a truncated transfer: reset, EOF without close_notify
            end = "%s: %s" % (type(e).__name__, e)
        finally:
            conn.close()
        try:
            reply = ftp.voidresp()
        except ftplib.Error as e:
            raise ftplib.Error("bytes=%d end=%s reply=%s" % (got, end, e))
        return "bytes=%d end=%s reply=%s" % (got, end, reply)
    raise ValueError("unknown operation " + op)


def main():
    host, port, mode, cafile, implicit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
    context = ssl.create_default_context(cafile=cafile)
    ftp = ModeFTPS(mode, context, implicit)
    ftp.set_debuglevel(1)
    sys.stdout.flush()
    try:
        ftp.connect(host, port)
        ftp.login()
        ftp.prot_p()
        ftp.set_pasv(mode in ("PASV", "EPSV"))
        print("RESULT LOGIN ok %s %s" % (ftp.sock.version(), ftp.welcome), flush=True)
    except Exception as e:
        print("RESULT LOGIN fail %s: %s" % (type(e).__name__, str(e).replace("\n", " ")), flush=True)
        return
    for op in sys.argv[6:]:
        name = op.partition(":")[0]
        try:
            print("RESULT %s ok %s" % (name, run(ftp, op)), flush=True)
        except ftplib.error_reply as e:
            print("RESULT %s fail reply %s" % (name, e), flush=True)
        except (ftplib.error_temp, ftplib.error_perm) as e:
            print("RESULT %s fail reply %s" % (name, e), flush=True)
        except Exception as e:
            print("RESULT %s fail %s: %s" % (name, type(e).__name__, str(e).replace("\n", " ")), flush=True)
            return
    try:
        ftp.quit()
    except Exception as e:
        print("quit failed: %r" % e, file=sys.stderr)


if __name__ == "__main__":
    main()
