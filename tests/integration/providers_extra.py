#!/usr/bin/env python3
"""providers_extra.py: provider behaviour beyond the vectors, through lighttpd + kanca on both stores:
a Trendyol page with several packages makes one event per package and resending it makes none; a
Sosyal Köprü webhook.test ping is answered 200 and recorded as a test; kancactl states the SHA-256
fingerprint of an Apple root and recognises the real Apple Root CA - G3."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
API_KEY = "ty-api-key-0123456789abcdef"
SK_SECRET = "sosyal-kopru-secret"


def page(packages):
    content = [{"shipmentPackageId": 3330000000 + i, "orderNumber": "10%d" % i, "status": st,
                "shipmentPackageStatus": st, "lastModifiedDate": 1767225000000 + i, "lines": []}
               for i, st in enumerate(packages)]
    return json.dumps({"totalElements": len(content), "totalPages": 1, "page": 0, "size": len(content),
                       "content": content}).encode()


def run(kind):
    tmp = kt.make_tempdir("kanca-extra-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    env.add_source("trendyol", "847427", API_KEY, {"auth_mode": "api_key"})
    env.add_source("sosyalkopru", "acct", SK_SECRET)
    t = kt.LighttpdTransport(env, tmp)
    t.start()
    L = "[%s]" % kind
    try:
        body = page(["Created", "Picking", "Shipped"])
        r = t.send("POST", "/webhook/ty/847427", {"Content-Type": "application/json", "x-api-key": API_KEY}, body)
        tap.eq(r.status, 200, "%s a Trendyol page of three packages is answered 200" % L)
        sid = env.source_id("trendyol", "847427")
        rows = store.query("SELECT event_type, idempotency_key FROM events WHERE source_id = ? ORDER BY id", (sid,))
        tap.eq([tuple(x) for x in rows],
               [("Created", "3330000000:Created:1767225000000"), ("Picking", "3330000001:Picking:1767225000001"),
                ("Shipped", "3330000002:Shipped:1767225000002")], "%s one event per package" % L)
        r2 = t.send("POST", "/webhook/ty/847427", {"Content-Type": "application/json", "x-api-key": API_KEY}, body)
        tap.eq(r2.status, 200, "%s resending the page is answered 200" % L)
        tap.eq(store.count("events", "source_id = ?", (sid,)), 3, "%s and makes no event" % L)
        r3 = t.send("POST", "/webhook/trendyol/847427", {"Content-Type": "application/json", "x-api-key": "wrong"},
                    page(["Delivered"]))
        tap.eq(r3.status, 401, "%s a wrong x-api-key is refused (route name trendyol works too)" % L)

        ping = b'{"event":"webhook.test","data":{"message":"test"}}'
        sig = "sha256=" + kt.sign_hex(SK_SECRET, ping)
        r = t.send("POST", "/webhook/sosyalkopru/acct", {"Content-Type": "application/json",
                    "X-SosyalKopru-Signature": sig, "X-SosyalKopru-Delivery": "dlv-test-1"}, ping)
        tap.eq(r.status, 200, "%s a Sosyal Köprü webhook.test ping is answered 200" % L)
        rows = store.query("SELECT event_type, status FROM events WHERE idempotency_key = ?", ("dlv-test-1",))
        tap.eq([tuple(x) for x in rows], [("webhook.test", "test")], "%s and recorded as a test" % L)
    finally:
        t.stop()
        store.close()


run("sqlite")
run("pg")

# kancactl and the Apple root certificate
tmp = kt.make_tempdir("kanca-extra-apple-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp)
env.migrate()
root = os.path.join(kt.srcdir(), "certs", "AppleRootCA-G3.pem")
rc, out, err = env.kancactl("source", "add", "apple", "com.example.app", "--root-cert", root,
                            "--set", "bundle_id=com.example.app", "--set", "environment=Production",
                            "--set", "app_apple_id=1234567890")
tap.eq(rc, 0, "kancactl source add apple with the real Apple root")
tap.ok("63:34:3A:BF:B8:9A:6A:03:EB:B5:7E:9B:3F:5F:A7:BE:7C:4F:5C:75:6F:30:17:B3:A8:C4:88:C3:65:3E:91:79" in out,
       "kancactl states the root's SHA-256 fingerprint")
tap.ok("Apple Root CA - G3" in out, "and recognises the real Apple Root CA - G3")
v = next(x for x in kt.load_vectors("apple") if x.get("trusted_root_pem"))
test_root = os.path.join(tmp, "test-root.pem")
with open(test_root, "w") as f:
    f.write(v["trusted_root_pem"])
rc, out, err = env.kancactl("source", "add", "apple", "test-app", "--root-cert", test_root,
                            "--set", "bundle_id=com.example.webhooktest", "--set", "environment=Sandbox")
tap.eq(rc, 0, "kancactl source add apple with a test root")
tap.ok("fingerprint" in out and "Apple Root CA - G3" not in out.replace("not Apple Root CA - G3", ""),
       "a test root is not taken for Apple's: %s" % out.strip()[:200])
bad = os.path.join(tmp, "bad.pem")
with open(bad, "wb") as f:
    f.write(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
rc, out, err = env.kancactl("source", "add", "apple", "bad-app", "--root-cert", bad, "--set", "bundle_id=x",
                            "--set", "environment=Sandbox")
tap.ok(rc != 0 and err.strip() != "", "a file that is not a certificate is refused with a message (%d: %s)"
       % (rc, err.strip()[:120]))
rc, out, err = env.kancactl("source", "add", "apple", "no-root", "--set", "bundle_id=x", "--set", "environment=Sandbox")
tap.ok(rc != 0 and "root" in err, "an apple source without a root certificate is refused (%d: %s)" % (rc, err.strip()[:120]))
tap.done()
