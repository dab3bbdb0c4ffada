#!/usr/bin/env python3
"""A stand-in for clamd that holds each scan until the test lets it answer.

fake_clamd.py DIR: listens on 127.0.0.1 (port written to DIR/port), speaks zINSTREAM.
For the N-th connection (from 1), once the whole stream is in it creates DIR/got.N
(holding the stream's size) and waits until DIR/release.N exists; its content picks the
answer: "ok" -> "stream: OK", "found" -> "stream: Sekisho.Test FOUND". So a test can hold
a `sekisho sanitize --clamd` right after the original was stored (the scan comes after
the store), and kill, inspect or release it. Ends when DIR/stop exists.
"""
import os
import socket
import struct
import sys
import threading
import time

d = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
srv.settimeout(0.2)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))


def read_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b


def serve(c, n):
    try:
        cmd = b""
        while not cmd.endswith(b"\0"):
            cmd += read_exact(c, 1)
        size = 0
        while True:
            (ln,) = struct.unpack(">I", read_exact(c, 4))
            if ln == 0:
                break
            read_exact(c, ln)
            size += ln
        with open(os.path.join(d, "got.%d" % n), "w") as f:
            f.write(str(size))
        rel = os.path.join(d, "release.%d" % n)
        while not os.path.exists(rel):
            if os.path.exists(os.path.join(d, "stop")):
                return
            time.sleep(0.05)
        what = open(rel).read().strip()
        c.sendall(b"stream: Sekisho.Test FOUND\0" if what == "found" else b"stream: OK\0")
    except (EOFError, OSError):
        pass
    finally:
        c.close()


n = 0
while not os.path.exists(os.path.join(d, "stop")):
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
