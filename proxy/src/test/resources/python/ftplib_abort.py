"""RETR, ABOR after 256 KiB the way ftplib sends it (MSG_OOB), NOOP, RETR again.

Usage: ftplib_abort.py HOST PORT FILE pasv|port
Prints one line per step, "step: reply", and "sha256: HEX" of the second, complete RETR.
"""
import ftplib
import hashlib
import sys

host, port, name, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ftp = ftplib.FTP()
ftp.connect(host, port, timeout=10)
ftp.login("anonymous", "ftplib@example.org")
ftp.set_pasv(mode == "pasv")
ftp.voidcmd("TYPE I")
conn = ftp.transfercmd("RETR " + name)
got = 0
while got < 256 * 1024:
    chunk = conn.recv(65536)
    if not chunk:
        break
    got += len(chunk)
print("read before abort:", got)
conn.close()
# ftplib.FTP.abort: sock.sendall(b"ABOR\r\n", MSG_OOB); reads one reply (426, 225 or 226).
first = ftp.abort()
print("abort first:", first.splitlines()[0])
if first[:3] in ("426", "451"):
    # The transfer's failure came first; the ABOR's own 225/226 follows (RFC 959 section 4.1.3).
    print("abort second:", ftp.getresp().splitlines()[0])
elif first[:3] == "226":
    # Either ABOR's answer, or the transfer's 226 (all sent already); then ABOR's 225/226 follows.
    ftp.sock.settimeout(1)
    try:
        print("abort second:", ftp.getresp().splitlines()[0])
    except (TimeoutError, OSError):
        pass
    ftp.sock.settimeout(10)
print("noop:", ftp.voidcmd("NOOP").splitlines()[0])
digest = hashlib.sha256()
print("retr:", ftp.retrbinary("RETR " + name, digest.update).splitlines()[0])
print("sha256:", digest.hexdigest())
print("quit:", ftp.quit().splitlines()[0])
