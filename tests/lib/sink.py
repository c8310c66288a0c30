"""sink: a scripted HTTP receiver on 127.0.0.1 for the forwarding tests (Python 3, standard library only).

    sink = Sink().start()
    url = sink.url("/fail/2")          # http://127.0.0.1:PORT/fail/2
    ...                                # kanca forwards to url
    assert sink.wait_for(3, timeout=10)
    reqs = sink.requests()             # copies, in arrival order
    sink.stop()

Behaviour by the first path segment(s); anything after them is ignored, so /ok/a and /ok/b are two
destinations that behave alike (counters are kept per full path):

    /ok                 200
    /fail/N             500 for the first N requests of each webhook-id, then 200
    /retry-after/S      429 with "Retry-After: S" for the first request of each webhook-id, then 200
    /gone               410
    /hang/S             sleeps S seconds (at most 60; cut short by stop()), then 200
    /hang-first/S       like /hang/S for the first request to the path, then 200 at once
    /status/CODE        CODE (200..599)
    anything else       404

Connections are kept alive (HTTP/1.1) unless the client asks to close; `sink.connections` counts the
TCP connections accepted, each request's `connection` is the number of the one it came on, and its
`answered` the time its answer was sent (for the concurrency checks: requests in flight at once).

Requests without a webhook-id header share one counter per path. Every request is recorded (method,
path with query, headers, body, time, and the status the sink answered) before it is answered, except
/hang/S and /hang-first/S requests, which are recorded on arrival with status None until answered.

`python3 tests/lib/sink.py` runs a self-test and prints TAP.
"""

import http.client
import http.server
import re
import socket
import sys
import threading
import time
import urllib.parse

HANG_MAX = 60.0
BODY_MAX = 64 * 1024 * 1024


class Request:
    """One received request. headers: lowercase name -> value (repeated names joined by ", ");
    raw_headers: [(name, value)] as received."""

    def __init__(self, method, path, raw_headers, body, at):
        self.method = method
        self.path = path
        self.raw_headers = list(raw_headers)
        self.headers = {}
        for name, value in self.raw_headers:
            key = name.lower()
            self.headers[key] = self.headers[key] + ", " + value if key in self.headers else value
        self.body = body
        self.time = at
        self.status = None
        self.connection = None
        self.answered = None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<Request %s %s %s %d bytes>" % (self.method, self.path, self.status, len(self.body))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kanca-sink"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the TAP output is the log
        pass

    def setup(self):
        super().setup()
        # the head and the body are two writes: without this, a kept-alive connection waits for the
        # client's delayed ACK (40 ms) before each body
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sink = self.server.sink
        with sink._cond:
            sink.connections += 1
            self.connection_number = sink.connections

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                total += size
                if total > BODY_MAX:
                    raise ValueError("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > BODY_MAX:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _handle(self):
        sink = self.server.sink
        try:
            body = self._body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, {}, b"bad request\n")
            return
        req = Request(self.command, self.path, self.headers.items(), body, time.time())
        req.connection = self.connection_number
        status, extra, delay = sink._decide(req)
        if delay:
            sink._record(req)
            sink._stopping.wait(delay)
            with sink._cond:
                req.status = status
                sink._cond.notify_all()
        else:
            req.status = status
            sink._record(req)
        self.close_connection = (self.headers.get("Connection") or "").lower() == "close"
        self._send(status, extra, b"" if status in (204, 304) else b'{"status":%d}\n' % status)
        req.answered = time.time()

    def _send(self, status, extra, body):
        try:
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if status not in (204, 304):
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass  # the client gave up (a timeout on its side): nothing to answer

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # the listen backlog: a burst of connections is queued, not reset


class Sink:
    """A threaded HTTP server on 127.0.0.1:<ephemeral> recording every request."""

    def __init__(self):
        self._server = None
        self._thread = None
        self._cond = threading.Condition()
        self._requests = []
        self._counts = {}  # (path, webhook-id) -> requests seen
        self._hung = set()  # paths whose first request /hang-first/S has held
        self._stopping = threading.Event()
        self.port = None
        self.connections = 0  # TCP connections accepted

    def start(self):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def url(self, path="/ok"):
        if not path.startswith("/"):
            path = "/" + path
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self._stopping.set()  # ends /hang sleeps
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def requests(self, path_prefix=None):
        """A copy of the requests received so far (optionally only those whose path starts with path_prefix)."""
        with self._cond:
            return [r for r in self._requests if path_prefix is None or r.path.startswith(path_prefix)]

    def clear(self):
        with self._cond:
            self._requests = []
            self._counts = {}
            self._hung = set()

    def wait_for(self, count, timeout=10.0, path_prefix=None):
        """True once at least count requests (under path_prefix, if given) have arrived; False after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                n = sum(1 for r in self._requests if path_prefix is None or r.path.startswith(path_prefix))
                if n >= count:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))

    # ---- behaviour ----

    def _record(self, req):
        with self._cond:
            self._requests.append(req)
            self._cond.notify_all()

    def _seen(self, req, path):
        """How many earlier requests this (path, webhook-id) has had; counts this one."""
        key = (path, req.header("webhook-id"))
        with self._cond:
            n = self._counts.get(key, 0)
            self._counts[key] = n + 1
        return n

    def _decide(self, req):
        """(status, extra headers, delay seconds) for req."""
        path = urllib.parse.urlsplit(req.path).path
        seg = [s for s in path.split("/") if s]

        def number(i, lo, hi, conv=int):
            try:
                v = conv(seg[i])
            except (IndexError, ValueError):
                return None
            return v if lo <= v <= hi else None

        if seg[:1] == ["ok"]:
            return 200, {}, 0
        if seg[:1] == ["gone"]:
            return 410, {}, 0
        if seg[:1] == ["fail"] and number(1, 0, 10**6) is not None:
            return (500 if self._seen(req, path) < number(1, 0, 10**6) else 200), {}, 0
        if seg[:1] == ["retry-after"] and number(1, 0, 10**9) is not None:
            if self._seen(req, path) == 0:
                return 429, {"Retry-After": str(number(1, 0, 10**9))}, 0
            return 200, {}, 0
        if seg[:1] == ["hang"] and number(1, 0, HANG_MAX, float) is not None:
            return 200, {}, number(1, 0, HANG_MAX, float)
        if seg[:1] == ["hang-first"] and number(1, 0, HANG_MAX, float) is not None:
            with self._cond:
                first = path not in self._hung
                self._hung.add(path)
            return 200, {}, (number(1, 0, HANG_MAX, float) if first else 0)
        if seg[:1] == ["status"] and number(1, 200, 599) is not None:
            return number(1, 200, 599), {}, 0
        return 404, {}, 0


# --------------------------------------------------------------------------------------------
# self-test: `python3 tests/lib/sink.py`


def _selftest():
    n = [0, 0]

    def ok(cond, desc):
        n[0] += 1
        if not cond:
            n[1] += 1
        print("%sok %d - %s" % ("" if cond else "not ", n[0], desc), flush=True)
        return cond

    def post(port, path, body=b"{}", wid=None, timeout=5.0, chunked=False):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if wid is not None:
            headers["webhook-id"] = wid
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
            c.request("POST", path, body=iter([body[:3], body[3:]]), headers=headers, encode_chunked=True)
        else:
            c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders())

    start = time.monotonic()
    sink = Sink().start()
    try:
        port = sink.port
        ok(sink.url("/ok").startswith("http://127.0.0.1:") and port > 0, "url() on 127.0.0.1 and an ephemeral port")

        status, _ = post(port, "/ok", b'{"a":\x00\xff}', wid="msg_1")
        ok(status == 200, "/ok answers 200")
        reqs = sink.requests()
        ok(len(reqs) == 1, "one request recorded")
        r = reqs[0]
        ok(r.method == "POST" and r.path == "/ok", "method and path recorded")
        ok(r.body == b'{"a":\x00\xff}', "body recorded byte for byte")
        ok(r.header("Webhook-Id") == "msg_1" and r.headers.get("content-type") == "application/json",
           "headers recorded, looked up case-insensitively")
        ok(abs(r.time - time.time()) < 5 and r.status == 200, "time and answered status recorded")

        status, _ = post(port, "/ok/x?q=1", b"abcdef", chunked=True)
        ok(status == 200 and sink.requests()[-1].body == b"abcdef", "chunked body decoded; /ok/x is /ok")

        got = [post(port, "/fail/2", wid="A")[0] for _ in range(3)]
        ok(got == [500, 500, 200], "/fail/2: 500, 500, then 200 for one webhook-id (%s)" % got)
        got = [post(port, "/fail/2", wid="B")[0] for _ in range(3)]
        ok(got == [500, 500, 200], "/fail/2: counted per webhook-id (%s)" % got)
        got = post(port, "/fail/2/other", wid="A")[0]
        ok(got == 500, "/fail/2/other: counted per path (%s)" % got)
        got = [post(port, "/fail/0", wid="C")[0]]
        ok(got == [200], "/fail/0: 200 at once")

        s1, h1 = post(port, "/retry-after/7", wid="R")
        s2, h2 = post(port, "/retry-after/7", wid="R")
        s3, h3 = post(port, "/retry-after/7", wid="S")
        ok(s1 == 429 and h1.get("retry-after") == "7", "/retry-after/7: 429 with Retry-After: 7 first")
        ok(s2 == 200 and "retry-after" not in h2, "/retry-after/7: then 200 for the same webhook-id")
        ok(s3 == 429, "/retry-after/7: 429 again for another webhook-id")

        ok(post(port, "/gone")[0] == 410, "/gone answers 410")
        ok(post(port, "/status/503")[0] == 503, "/status/503 answers 503")
        ok(post(port, "/status/201")[0] == 201, "/status/201 answers 201")
        ok(post(port, "/status/204")[0] == 204, "/status/204 answers 204 without a body")
        ok(post(port, "/status/999")[0] == 404, "/status/999 is 404 (out of range)")
        ok(post(port, "/nowhere")[0] == 404, "an unknown path is 404")

        t0 = time.monotonic()
        status, _ = post(port, "/hang/0.4")
        took = time.monotonic() - t0
        ok(status == 200 and 0.35 <= took < 3, "/hang/0.4 answers 200 after about 0.4 s (%.2f s)" % took)

        def took(path, wid):
            t0 = time.monotonic()
            status, _ = post(port, path, wid=wid)
            return status, time.monotonic() - t0

        first, again, other = took("/hang-first/0.4", "w1"), took("/hang-first/0.4", "w1"), \
            took("/hang-first/0.4", "w2")
        ok(first[0] == 200 and first[1] >= 0.35, "/hang-first/0.4 hangs the first request to the path")
        ok(again[0] == 200 and again[1] < 0.3, "/hang-first/0.4 answers the second request at once")
        ok(other[0] == 200 and other[1] < 0.3, "/hang-first/0.4 answers another webhook-id's at once too")
        ok(took("/hang-first/0.4/b", "w1")[1] >= 0.35, "/hang-first/0.4/b is another path: its first request hangs")

        try:
            post(port, "/hang/2", timeout=0.3)
            timed_out = False
        except (TimeoutError, OSError):
            timed_out = True
        ok(timed_out, "a client with a short timeout gives up on /hang/2")
        ok(sink.requests("/hang/2")[0].status is None, "/hang/2 recorded on arrival, not yet answered")

        before = len(sink.requests())
        ok(sink.wait_for(before, timeout=0.1), "wait_for(count already reached) is True at once")
        t0 = time.monotonic()
        ok(not sink.wait_for(before + 1, timeout=0.3), "wait_for times out with False")
        ok(0.25 <= time.monotonic() - t0 < 2, "wait_for waited about its timeout")

        threading.Timer(0.2, lambda: post(port, "/ok/late")).start()
        ok(sink.wait_for(1, timeout=5, path_prefix="/ok/late"), "wait_for wakes on a request from another thread")

        # concurrent posts are all recorded
        threads = [threading.Thread(target=post, args=(port, "/ok/many", b"%d" % i)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        bodies = sorted(int(r.body) for r in sink.requests("/ok/many"))
        ok(bodies == list(range(20)), "20 concurrent requests all recorded")

        sink.clear()
        ok(sink.requests() == [] and post(port, "/fail/1", wid="A")[0] == 500, "clear() forgets requests and counters")
    finally:
        t0 = time.monotonic()
        sink.stop()
    ok(time.monotonic() - t0 < 3, "stop() returns promptly even with a /hang request open")
    try:
        post(port, "/ok", timeout=1)
        refused = False
    except OSError:
        refused = True
    ok(refused, "after stop() the port refuses connections")
    ok(time.monotonic() - start < 20, "self-test bounded in time")
    print("1..%d" % n[0])
    return 1 if n[1] else 0


if __name__ == "__main__":
    sys.exit(_selftest())
