#!/usr/bin/env python3
"""A client for the half-close tests: through a proxy (CONNECT or SOCKS5) to an origin
that answers after the first 1000 bytes of a 300000-byte upload and then half-closes.
Reads the answer up to the origin's FIN, then sends the rest of the upload (a tunnel
must still carry it), half-closes, and prints whether the answer ended with "hi".

usage: halfclose_client.py PROXY_PORT ORIGIN_PORT connect|socks5
"""
import socket
import struct
import sys
import time

px, o, via = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", px))
if via == "connect":
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % o)
    r = b""
    while b"\r\n\r\n" not in r:
        r += s.recv(1)
else:
    s.sendall(b"\x05\x01\x00"); s.recv(2)
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", o))
    s.recv(10)
s.sendall(b"PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + b"u" * 1000)
got = b""
while True:  # the answer, then the origin's FIN
    d = s.recv(65536)
    if not d:
        break
    got += d
time.sleep(0.2)
for _ in range(299):  # the upload goes on after the FIN
    s.sendall(b"u" * 1000)
s.shutdown(socket.SHUT_WR)
print(got.endswith(b"hi"))
