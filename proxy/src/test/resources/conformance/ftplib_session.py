"""One anonymous FTP session with Python's ftplib, for ftpgate's conformance matrix.

Usage: ftplib_session.py HOST PORT MODE WORKDIR OP...   (MODE: PASV, EPSV, PORT or EPRT)

Operations, run in the order given; after a failed one the session is replaced by a fresh login,
so one failure does not hide the others:
  LIST               LIST of the root directory, written to WORKDIR/list.txt
  RETR:REMOTE        download to WORKDIR/retr.bin
  STOR:REMOTE        upload WORKDIR/stor.bin to REMOTE
  REST:REMOTE        continue WORKDIR/rest/REMOTE (a prefix of REMOTE) with REST + RETR
  ABOR:REMOTE:AGAIN  start RETR REMOTE, read 256 KiB, close the data connection, FTP.abort() (which
                     sends ABOR as urgent data, MSG_OOB), read the reply to ABOR (225 or 226, after
                     the 426 of the interrupted RETR), NOOP, then RETR AGAIN to WORKDIR/again.txt

stdout carries one line per operation: "RESULT OP ok DETAIL" or "RESULT OP fail DETAIL";
the control dialogue (ftplib's debug output) goes to stderr.
"""
import contextlib
import ftplib
import os
import socket
import sys

ABORT_AFTER = 256 * 1024
TIMEOUT = 5


class ModeFTP(ftplib.FTP):
    """ftplib with the data connection mode forced: ftplib itself picks PASV/PORT on IPv4 and
    EPSV/EPRT on IPv6 only, and ignores the address of a 227 reply unless told to trust it."""

    # Use the address a 227 reply announces, so a wrong rewrite by a gateway shows.
    trust_server_pasv_ipv4_address = True

    def __init__(self, mode):
        super().__init__(timeout=TIMEOUT)
        self.mode = mode

    def makepasv(self):
        if self.mode == "EPSV":
            return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return super().makepasv()

    def makeport(self):
        sock = socket.create_server(("", 0), family=self.af, backlog=1)
        host = self.sock.getsockname()[0]
        port = sock.getsockname()[1]
        if self.mode == "EPRT":
            self.sendeprt(host, port)
        else:
            self.sendport(host, port)
        sock.settimeout(self.timeout)
        return sock


def connect(host, port, mode):
    ftp = ModeFTP(mode)
    ftp.set_debuglevel(int(os.environ.get("FTPLIB_DEBUG", "1")))
    ftp.connect(host, port)
    ftp.login()
    ftp.set_pasv(mode in ("PASV", "EPSV"))
    return ftp


def retrieve(ftp, remote, path, rest=None):
    with open(path, "ab" if rest is not None else "wb") as out:
        return ftp.retrbinary("RETR " + remote, out.write, rest=rest)


def abort(ftp, remote, again, workdir):
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR " + remote)
    # A small receive buffer (no autotuning): the server, and a gateway's buffers between, fill up
    # long before the whole file is sent, so ABOR meets a transfer in progress.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    got = 0
    try:
        while got < ABORT_AFTER:
            chunk = conn.recv(min(65536, ABORT_AFTER - got))
            if not chunk:
                break
            got += len(chunk)
        if got < ABORT_AFTER:
            raise ftplib.Error("data connection ended after %d bytes, before the abort" % got)
    finally:
        # Closed before ABOR: a server blocked writing the rest of the file then sees the
        # transfer fail and reads the control connection again.
        conn.close()
    # RFC 959 4.1.3: the server answers the interrupted RETR (426), then ABOR itself (226),
    # or only ABOR (225/226) if the transfer had already ended.
    print("*cmd* 'ABOR' by FTP.abort() (urgent data, MSG_OOB) after %d bytes" % got)
    replies = [ftp.abort()]
    print("*resp* %r" % replies[0])
    if replies[0].startswith("426"):
        replies.append(ftp.getmultiline())
        print("*resp* %r" % replies[1])
    if not replies[-1][:3] in ("225", "226"):
        raise ftplib.error_proto("reply to ABOR: " + " | ".join(replies))
    noop = ftp.voidcmd("NOOP")
    retrieve(ftp, again, os.path.join(workdir, "again.txt"))
    return "after %d bytes: ABOR replies %s; NOOP %s" % (got, " | ".join(replies), noop)


def run(ftp, op, workdir):
    verb, _, arg = op.partition(":")
    if verb == "LIST":
        lines = []
        ftp.retrlines("LIST", lines.append)
        with open(os.path.join(workdir, "list.txt"), "w") as out:
            out.write("\n".join(lines) + "\n")
        return "%d lines" % len(lines)
    if verb == "RETR":
        return retrieve(ftp, arg, os.path.join(workdir, "retr.bin"))
    if verb == "STOR":
        with open(os.path.join(workdir, "stor.bin"), "rb") as src:
            return ftp.storbinary("STOR " + arg, src)
    if verb == "REST":
        path = os.path.join(workdir, "rest", arg)
        return retrieve(ftp, arg, path, rest=os.path.getsize(path))
    if verb == "ABOR":
        remote, _, again = arg.partition(":")
        return abort(ftp, remote, again, workdir)
    raise ValueError("unknown operation " + op)


def main():
    host, port, mode, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ftp = None
    for op in sys.argv[5:]:
        name = op.partition(":")[0]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                if ftp is None:
                    ftp = connect(host, port, mode)
                detail = run(ftp, op, workdir)
            print("RESULT %s ok %s" % (name, detail), flush=True)
        except Exception as e:  # every failure is a result of its own operation
            print("RESULT %s fail %s: %s" % (name, type(e).__name__, str(e).replace("\n", " ")), flush=True)
            if ftp is not None:
                ftp.close()
            ftp = None
    if ftp is not None:
        with contextlib.redirect_stdout(sys.stderr):
            try:
                ftp.quit()
            except Exception as e:
                print("quit failed: %r" % e)


if __name__ == "__main__":
    main()
