#!/usr/bin/env python3
"""sink.py: the forward destination of kanca's processing benchmark (Python 3 stdlib only).

A small asyncio HTTP/1.1 server on 127.0.0.1 (ephemeral port; the first line on stdout is
"PORT <n>"). Every POST is answered 200 {"ok":true} at once, except under a path starting with
/slow (e.g. /slow-pg/), answered after --slow seconds (default 2) without holding up other
connections. It keeps the webhook-id header of every POST, per path prefix, so the benchmark can
check that each event reached it exactly once:

    GET /stats?prefix=/fast/   ->  {"posts": N, "distinct": M, "first": t0, "last": t1, "connections": C}

(the prefix is the first path segment; t0/t1: time.time() of the first and last POST under it; C:
the connections that carried those POSTs). Keep-alive is honoured; a client that opens a connection
per delivery works too (C then equals N). Runs until SIGTERM/SIGINT, or --max-seconds at most.
"""
import argparse
import asyncio
import json
import signal
import sys
import time
import urllib.parse

OK = b'{"ok":true}'
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class Counts:
    def __init__(self):
        self.by_prefix = {}  # prefix -> [posts, set(ids), first, last, connections]

    def add(self, path, wid, new_conn):
        i = path.find("/", 1)
        prefix = path[:i + 1] if i > 0 else path
        c = self.by_prefix.get(prefix)
        now = time.time()
        if c is None:
            c = self.by_prefix[prefix] = [0, set(), now, now, 0]
        c[0] += 1
        c[4] += new_conn
        c[1].add(wid)
        c[3] = now

    def stats(self, prefix):
        c = self.by_prefix.get(prefix)
        if c is None:
            return {"posts": 0, "distinct": 0, "first": 0, "last": 0, "connections": 0}
        return {"posts": c[0], "distinct": len(c[1]), "first": c[2], "last": c[3], "connections": c[4]}


COUNTS = Counts()
SLOW = 2.0


def answer(status, body, keep):
    reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 413: b"Payload Too Large"}.get(status, b"X")
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (status, reason, len(body), b"" if keep else b"Connection: close\r\n")) + body


class Conn(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = bytearray()
        self.busy = False  # a slow answer is pending: requests behind it wait (no pipelining past it)
        self.closed = False
        self.posted = 0  # 1 once a POST came on this connection (connections are counted on their first POST)

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf += data
        self.work()

    def work(self):
        while not self.busy and not self.closed:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    self.t.write(answer(400, b"{}", False))
                    self.t.close()
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                self.t.write(answer(400, b"{}", False))
                self.t.close()
                return
            method, target, version = parts
            clen = 0
            wid = ""
            keep = version == "HTTP/1.1"
            for line in lines[1:]:
                k, _, v = line.partition(":")
                k = k.strip().lower()
                if k == "content-length":
                    clen = int(v.strip() or 0)
                elif k == "webhook-id":
                    wid = v.strip()
                elif k == "connection":
                    tok = v.strip().lower()
                    keep = tok == "keep-alive" or (keep and tok != "close")
            if clen > MAX_BODY:
                self.t.write(answer(413, b"{}", False))
                self.t.close()
                return
            if len(self.buf) < end + 4 + clen:
                return
            del self.buf[:end + 4 + clen]
            path, _, query = target.partition("?")
            if method == "GET" and path == "/stats":
                q = urllib.parse.parse_qs(query)
                body = json.dumps(COUNTS.stats(q.get("prefix", ["/"])[0])).encode()
                self.reply(200, body, keep)
            elif method == "POST":
                COUNTS.add(path, wid, 1 - self.posted)
                self.posted = 1
                if path.startswith("/slow"):
                    self.busy = True
                    asyncio.get_running_loop().call_later(SLOW, self.slow_reply, keep)
                    return
                self.reply(200, OK, keep)
            else:
                self.reply(404, b"{}", keep)

    def reply(self, status, body, keep):
        if self.closed:
            return
        self.t.write(answer(status, body, keep))
        if not keep:
            self.t.close()
            self.closed = True

    def slow_reply(self, keep):
        self.busy = False
        self.reply(200, OK, keep)
        self.work()


async def main():
    global SLOW
    ap = argparse.ArgumentParser()
    ap.add_argument("--slow", type=float, default=2.0)
    ap.add_argument("--max-seconds", type=float, default=3600.0)
    a = ap.parse_args()
    SLOW = a.slow
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    srv = await loop.create_server(Conn, "127.0.0.1", 0, backlog=1024, reuse_address=True)
    print("PORT %d" % srv.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(stop, a.max_seconds)
    except asyncio.TimeoutError:
        pass
    srv.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
