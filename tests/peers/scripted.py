#!/usr/bin/env python3
"""A scripted misbehaving peer for end-to-end tests (loopback only).

usage: scripted.py MODE  -> listens on 127.0.0.1:0, prints the port, serves forever
(the test kills it). Server modes answer any HTTP request; proxy modes answer a
CONNECT request or a SOCKS5 greeting the way the mode says.
"""
import socket
import struct
import sys
import threading
import time

MODE = sys.argv[1]
LINGER_RST = struct.pack("ii", 1, 0)


def read_head(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            return None
        buf += d
        if len(buf) > 65536:
            return None
    return buf


def rst(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
    c.close()


def serve_http(c):
    head = read_head(c)
    if head is None:
        return
    if MODE == "stray":          # a whole response, then bytes nobody asked for, one write
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloSTRAY-BYTES")
        time.sleep(1)
    elif MODE == "badchunk":     # a chunk size that is no number, with the head
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        time.sleep(1)
    elif MODE == "badchunk-late":  # a good chunk goes out first, the bad one later
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        time.sleep(0.5)
        c.sendall(b"zz\r\n")
        time.sleep(1)
    elif MODE == "cl55":         # the same length as a list and again as a field
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello")
        time.sleep(1)
    elif MODE == "echo-head":    # the request head it read, as the body
        h = head.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(h) + h)
        time.sleep(1)
    elif MODE == "truncate":     # Content-Length 654397, 34016 bytes, FIN
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 654397\r\n\r\n" + b"y" * 34016)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
    elif MODE == "rst":          # 5000 body bytes, then RST
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 5000)
        time.sleep(0.1)
        rst(c)
        return
    elif MODE == "endless":      # a header that never ends
        c.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            for _ in range(2000):
                c.sendall(b"X-Endless: " + b"a" * 100 + b"\r\n")
        except OSError:
            pass
        time.sleep(0.5)
    elif MODE == "bigchunk":     # a 2^64 chunk size
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc")
        time.sleep(0.5)
    elif MODE == "garbage":
        c.sendall(b"HTTQ/9 OK\r\n\r\n")
        time.sleep(0.5)
    elif MODE == "drip":         # 1 byte per second
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        try:
            for _ in range(100):
                c.sendall(b"z")
                time.sleep(1)
        except OSError:
            pass
    elif MODE == "stall":        # half a body, then silence
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"s" * 1000)
        time.sleep(30)
    elif MODE == "nofin":        # a close-delimited body whose end never comes
        c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Tp-Length: 5\r\n\r\nhello")
        time.sleep(30)
    elif MODE == "silent":       # accepts, reads, never answers
        time.sleep(30)
    c.close()


def serve_proxy(c):
    head = c.recv(4096)
    if not head:
        return
    if head[:1] == b"\x05":      # SOCKS5 greeting
        if MODE == "socks-close-mid":
            c.sendall(b"\x05")
            c.close()
            return
        c.sendall(b"\x05\x00")
        c.recv(4096)
        if MODE == "socks-refuse":
            c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
        elif MODE == "socks-reply-close":
            c.sendall(b"\x05\x00\x00\x01")
        c.close()
        return
    if MODE == "close-before-reply":
        c.close()
    elif MODE == "close-mid-reply":
        c.sendall(b"HTTP/1.1 200 Conn")
        c.close()
    elif MODE == "refuse":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        c.close()
    elif MODE == "close-after-accept":
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        time.sleep(0.1)
        c.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    print(s.getsockname()[1], flush=True)
    proxy = MODE.startswith(("close-", "refuse", "socks-"))
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_proxy if proxy else serve_http, args=(c,), daemon=True).start()


main()
