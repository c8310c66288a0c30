#!/usr/bin/env python3
"""trendyol_seed.py: Trendyol's seed_hmac mode takes the seed's own delivery (seed 001:
{"eventType", "eventId", "timestamp", "sellerId", "data"} with X-Trendyol-Signature and X-Event-Id) as
well as the package page. The seed event is one event typed by eventType and keyed by X-Event-Id, else
eventId, else the SHA-256 of the raw body (with a warning in the log that says so); a page is one event
per package, keyed X-Event-Id[:index], else the body's SHA-256[:index]. A bad signature is 401, a
duplicate is answered as the first delivery and stored once, and the log line of each stored event of a
page carries that event's own key. Through kanca.cgi (its stderr is the log), on SQLite and PostgreSQL."""
import base64
import hashlib
import hmac
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "ty-seed-secret-Çay"
SELLER = "123456"
PATH = "/webhook/ty/%s" % SELLER


def seed_body(event_id, event_type="OrderStatusChanged", order="1234567890"):
    """Seed 001's "Sipariş Event'i", as its document shows it (eventId and order number varied)."""
    doc = {
        "eventType": event_type,
        "eventId": event_id,
        "timestamp": "2026-01-18T10:30:00Z",
        "sellerId": SELLER,
        "data": {
            "orderNumber": order,
            "status": "Created",
            "orderDate": "2026-01-18T10:25:00Z",
            "lines": [{"lineId": "line_001", "barcode": "8680000123456", "productName": "Örnek Ürün",
                       "quantity": 2, "amount": 199.99, "vatBaseAmount": 169.49, "discount": 0}],
            "shipmentAddress": {"city": "İstanbul", "district": "Kadıköy", "fullAddress": "..."},
        },
    }
    if event_id is None:
        del doc["eventId"]
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


def page_body(*pkgs):
    content = [{"shipmentPackageId": pid, "orderNumber": "ON-%d" % pid, "status": st, "shipmentPackageStatus": st,
                "lastModifiedDate": lm, "lines": [{"productName": "Çay"}]} for pid, st, lm in pkgs]
    return json.dumps({"totalElements": len(content), "totalPages": 1, "page": 0, "size": len(content),
                       "content": content}).encode()


def signature(body, secret=SECRET):
    """As the seed's WebhookSignatureValidator computes it: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sha256(body):
    return hashlib.sha256(body).hexdigest()


def log_lines(stderr):
    return stderr.decode("utf-8", "replace").splitlines()


def event_lines(stderr):
    """(what, event id, type, delivery) of each "stored event"/"duplicate of event" line."""
    out = []
    for line in log_lines(stderr):
        m = re.search(r"(stored|duplicate of) event (\d+) type=(\S+).*\[provider=trendyol delivery=([^\]]*)\]", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3), m.group(4)))
    return out


def run(kind):
    tmp = kt.make_tempdir("kanca-tyseed-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    env.add_source("trendyol", SELLER, SECRET, {"auth_mode": "seed_hmac"})
    env.add_source("trendyol", "654321", SECRET, {"auth_mode": "api_key"})
    sid = env.source_id("trendyol", SELLER)
    cgi = kt.CgiTransport(env)
    L = "[trendyol_seed/%s]" % kind

    def send(body, event_id=None, sig=None, path=PATH):
        h = {"Content-Type": "application/json", "X-Trendyol-Signature": sig or signature(body)}
        if event_id is not None:
            h["X-Event-Id"] = event_id
        return cgi.send("POST", path, h, body)

    def rows(where="", params=()):
        return store.query("SELECT idempotency_key, event_type FROM events WHERE source_id = ?%s ORDER BY id" %
                           (" AND " + where if where else ""), (sid,) + tuple(params))

    def count():
        return store.count("events")

    # -- the seed's delivery, with X-Event-Id: the key is the header, the type eventType
    body = seed_body("evt_abc123def456")
    r = send(body, "xevt-0001")
    tap.eq(r.status, 200, "%s seed 001's delivery with X-Event-Id: 200 (%s)" % (L, r.body[:200]))
    tap.eq(r.json(), {"success": True, "event": "OrderStatusChanged"}, "%s answered with its eventType" % L)
    tap.eq(rows("body = ?" if kind == "sqlite" else "body = decode(?, 'hex')",
                (body if kind == "sqlite" else body.hex(),)),
           [("xevt-0001", "OrderStatusChanged")],
           "%s one event, key X-Event-Id (not eventId), type eventType" % L)
    first = r
    n0 = count()

    # -- a duplicate: the same answer, stored once, logged as a duplicate with its key
    r = send(body, "xevt-0001")
    tap.eq((r.status, r.body), (200, first.body), "%s the same delivery again: 200, the first answer" % L)
    tap.eq(count(), n0, "%s and nothing more stored" % L)
    tap.eq(len(rows("idempotency_key = ?", ("xevt-0001",))), 1, "%s the event is there once" % L)
    tap.eq([(w, d) for w, _, _, d in event_lines(r.stderr)], [("duplicate of", "xevt-0001")],
           "%s its log line says duplicate, with its key" % L)

    # -- without X-Event-Id: the key is the body's eventId
    body = seed_body("evt_only_in_body", event_type="OrderCreated")
    r = send(body)
    tap.eq(r.status, 200, "%s without X-Event-Id: 200 (%s)" % (L, r.body[:200]))
    tap.eq(rows("idempotency_key = ?", ("evt_only_in_body",)), [("evt_only_in_body", "OrderCreated")],
           "%s key eventId, type OrderCreated" % L)
    tap.ok(not any("SHA-256" in line for line in log_lines(r.stderr)),
           "%s no SHA-256 fallback is logged when eventId is there" % L)

    # -- an empty X-Event-Id is no id either: eventId
    body = seed_body("evt_empty_header")
    r = send(body, "")
    tap.eq((r.status, rows("idempotency_key = ?", ("evt_empty_header",))),
           (200, [("evt_empty_header", "OrderStatusChanged")]), "%s an empty X-Event-Id: key eventId" % L)

    # -- without both: the key is the SHA-256 of the raw body, and the log says so
    body = seed_body(None, order="999")
    digest = sha256(body)
    n0 = count()
    r = send(body)
    tap.eq(r.status, 200, "%s without X-Event-Id and eventId: 200, not refused (%s)" % (L, r.body[:200]))
    tap.eq(rows("idempotency_key = ?", (digest,)), [(digest, "OrderStatusChanged")],
           "%s key = the body's SHA-256 hex" % L)
    tap.eq(count(), n0 + 1, "%s one event for the delivery" % L)
    warn = [line for line in log_lines(r.stderr) if "SHA-256" in line]
    tap.ok(len(warn) == 1 and digest in warn[0] and " WARN" in warn[0].upper(),
           "%s recorded: a warning names the body's SHA-256 as the key: %r" % (L, warn))
    r2 = send(body)
    tap.eq((r2.status, count()), (200, n0 + 1), "%s sent again: a duplicate, stored once" % L)
    # a non-string, non-integer eventId is no id either
    body = b'{"eventType":"OrderCreated","eventId":{"x":1},"data":{}}'
    r = send(body)
    tap.eq((r.status, rows("idempotency_key = ?", (sha256(body),))), (200, [(sha256(body), "OrderCreated")]),
           "%s an eventId that is an object: the body's SHA-256" % L)
    # an integer eventId is an id
    body = b'{"eventType":"OrderCreated","eventId":4242,"data":{}}'
    r = send(body)
    tap.eq((r.status, rows("idempotency_key = ?", ("4242",))), (200, [("4242", "OrderCreated")]),
           "%s an integer eventId: its digits" % L)

    # -- a bad signature: 401, nothing stored
    n0 = count()
    body = seed_body("evt_forged")
    r = send(body, "xevt-forged", sig=signature(body, "another-secret"))
    tap.eq(r.status, 401, "%s signed with another secret: 401" % L)
    r = send(body, "xevt-forged", sig=signature(body + b" "))
    tap.eq(r.status, 401, "%s a signature of other bytes: 401" % L)
    r = send(body, "xevt-forged", sig=signature(body).rstrip("="))
    tap.eq(r.status, 401, "%s the signature without its padding: 401" % L)
    tap.eq(count(), n0, "%s nothing of them stored" % L)

    # -- what neither shape is: 400, nothing stored
    for desc, body, why in (("neither content nor eventType", b'{"eventId":"x","data":{}}', "neither content"),
                            ("an eventType that is not a string", b'{"eventType":7,"eventId":"x"}', "eventType"),
                            ("a JSON array", b'[{"eventType":"OrderCreated"}]', "not a JSON object")):
        r = send(body, "xevt-bad")
        error = (r.json() or {}).get("error") or ""
        tap.ok(r.status == 400 and why in error, "%s %s: 400 saying %r (%d %r)" % (L, desc, why, r.status, error))
    tap.eq(count(), n0, "%s nothing of them stored" % L)

    # -- the page shape still works in seed_hmac mode: one event per package, each logged with its key
    body = page_body((101, "Created", 1000), (102, "Picking", 2000), (103, "Shipped", 3000))
    r = send(body, "page-1")
    tap.eq(r.status, 200, "%s a three-package page: 200 (%s)" % (L, r.body[:200]))
    tap.eq(rows("idempotency_key LIKE ?", ("page-1%",)),
           [("page-1:0", "Created"), ("page-1:1", "Picking"), ("page-1:2", "Shipped")],
           "%s three events, keys X-Event-Id:index, types the packages' status" % L)
    got = event_lines(r.stderr)
    tap.eq([(w, t, d) for w, _, t, d in got],
           [("stored", "Created", "page-1:0"), ("stored", "Picking", "page-1:1"), ("stored", "Shipped", "page-1:2")],
           "%s each stored event's log line carries its own package's key" % L)
    ids = [str(i) for (i,) in store.query("SELECT id FROM events WHERE idempotency_key LIKE ? ORDER BY id",
                                          ("page-1%",))]
    tap.eq([i for _, i, _, _ in got], ids, "%s and its own event id" % L)
    r = send(body, "page-1")
    tap.eq([(w, d) for w, _, _, d in event_lines(r.stderr)],
           [("duplicate of", "page-1:0"), ("duplicate of", "page-1:1"), ("duplicate of", "page-1:2")],
           "%s the page again: three duplicates, each logged with its own key" % L)
    tap.eq(len(rows("idempotency_key LIKE ?", ("page-1%",))), 3, "%s still three events" % L)

    # a one-package page: the key is X-Event-Id itself
    body = page_body((104, "Delivered", 4000))
    r = send(body, "page-2")
    tap.eq((r.status, rows("idempotency_key LIKE ?", ("page-2%",))), (200, [("page-2", "Delivered")]),
           "%s a one-package page: key X-Event-Id" % L)

    # a page without X-Event-Id: the body's SHA-256 with the index, recorded
    body = page_body((105, "Created", 5000), (106, "Cancelled", 6000))
    digest = sha256(body)
    r = send(body)
    tap.eq(r.status, 200, "%s a page without X-Event-Id: 200, not refused (%s)" % (L, r.body[:200]))
    tap.eq(rows("idempotency_key LIKE ?", (digest + "%",)),
           [(digest + ":0", "Created"), (digest + ":1", "Cancelled")], "%s keys the body's SHA-256:index" % L)
    warn = [line for line in log_lines(r.stderr) if "SHA-256" in line]
    tap.ok(len(warn) == 1 and digest in warn[0], "%s recorded in a warning: %r" % (L, warn))

    # a page with an id too long for the index: the body's SHA-256, not a 400
    body = page_body((107, "Created", 7000), (108, "Created", 7001))
    long_id = "L" * 256
    r = send(body, long_id)
    tap.eq((r.status, [k for k, _ in rows("idempotency_key LIKE ?", (sha256(body) + "%",))]),
           (200, [sha256(body) + ":0", sha256(body) + ":1"]),
           "%s an X-Event-Id with no room for the index: the body's SHA-256" % L)

    # a broken page is still refused
    body = json.dumps({"content": [{"shipmentPackageId": 1, "status": "Created"}]}).encode()
    r = send(body, "page-bad")
    tap.eq(r.status, 400, "%s a package without lastModifiedDate: 400 (%s)" % (L, r.body[:200]))

    # -- the other modes take pages only, as before
    body = seed_body("evt_api_key")
    r = cgi.send("POST", "/webhook/ty/654321", {"Content-Type": "application/json", "x-api-key": SECRET}, body)
    tap.eq(r.status, 400, "%s api_key mode: the seed's event shape is still refused (%s)" % (L, r.body[:200]))
    store.close()


run("sqlite")
run("pg")
tap.done()
