#!/usr/bin/env python3
"""strict_json.py: every signed JSON document is read strictly, through a real lighttpd spawning kanca, on
SQLite and on PostgreSQL (json.h, doc/providers.md "Strict JSON"). For each provider's signed fields a
correctly signed body that repeats a member (ikas: two data, two signature, a repeat inside data; supplier:
two event, two vendorOfferId; Stripe: two id, two type; Apple: two signedPayload, a repeat inside the signed
payload; Standard Webhooks: two type, a repeat deep in data) is answered 400 naming the member, and nothing
is stored; \\u0000 in an id is 400 and nothing is stored; a price of 1e999 or 1e-99999, a 23-digit price
and 3e9 seats are 422 with nothing stored; offer.updated of an unknown vendorOfferId creates nothing and
says so ("Offer not found", "updated":0) while the event itself is kept. Each check has a well-formed twin
that is accepted, so a 400 here is the strictness and not a signing mistake of the test."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
OPENSSL = kt.require_tool(tap, "openssl")

IKAS_SECRET = "ikas-client-secret-strict"
SUPPLIER_SECRET = "ab" * 32
STRIPE_SECRET = "whsec_strict_stripe_secret"
SW_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-strict-key-32b").decode()
BUNDLE = "com.example.strict"


# ---- signing, as each provider's sender does (doc/providers.md) ----

def ikas_body(data, sig=None, before="", after=""):
    """An ikas envelope around the text data; sig defaults to the right one. before/after: raw members."""
    sig = sig or hmac.new(IKAS_SECRET.encode(), data.encode(), hashlib.sha256).hexdigest()
    return ('{"id":"%s","scope":"store/order/created","merchantId":"m1",%s"data":%s,"signature":"%s"%s}'
            % (uuid.uuid4(), before, json.dumps(data), sig, after)).encode()


def stripe_headers(body):
    t = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Stripe-Signature": "t=%d,v1=%s" % (t, mac)}


def sw_headers(body, msg_id):
    ts = int(time.time())
    key = base64.b64decode(SW_SECRET[len("whsec_"):])
    mac = base64.b64encode(hmac.new(key, ("%s.%d." % (msg_id, ts)).encode() + body, hashlib.sha256).digest())
    return {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": "v1," + mac.decode()}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class AppleChain:
    """A root -> intermediate -> leaf chain with Apple's two marker OIDs (PROVIDERS.md 5a, openssl only)
    and ES256 compact JWS signed by the leaf."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "apple")
        os.makedirs(self.dir)
        ext = os.path.join(self.dir, "ext.cnf")
        with open(ext, "w") as f:
            f.write("[int]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\n"
                    "1.2.840.113635.100.6.2.1 = ASN1:NULL\n[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature\n1.2.840.113635.100.6.11.1 = ASN1:NULL\n")
        for k in ("root", "int", "leaf"):
            self._ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.p(k + ".key"))
        self._ssl("req", "-new", "-x509", "-key", self.p("root.key"), "-subj", "/CN=TEST strict Root", "-days", "30",
                  "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", self.p("root.pem"))
        for k, ca, name in (("int", "root", "Intermediate"), ("leaf", "int", "Leaf")):
            self._ssl("req", "-new", "-key", self.p(k + ".key"), "-subj", "/CN=TEST strict " + name,
                      "-out", self.p(k + ".csr"))
            self._ssl("x509", "-req", "-in", self.p(k + ".csr"), "-CA", self.p(ca + ".pem"), "-CAkey",
                      self.p(ca + ".key"), "-CAcreateserial", "-days", "30", "-sha256", "-extfile", ext,
                      "-extensions", k, "-out", self.p(k + ".pem"))
        self.x5c = []
        for k in ("leaf", "int", "root"):
            self._ssl("x509", "-in", self.p(k + ".pem"), "-outform", "DER", "-out", self.p(k + ".der"))
            with open(self.p(k + ".der"), "rb") as f:
                self.x5c.append(base64.b64encode(f.read()).decode())
        self.root_pem = self.p("root.pem")

    def p(self, name):
        return os.path.join(self.dir, name)

    def _ssl(self, *args, data=None):
        r = subprocess.run([OPENSSL] + list(args), input=data, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], r.stderr.decode(errors="replace")[-300:]))
        return r.stdout

    def jws(self, payload_text):
        """The compact JWS of payload_text (bytes, signed exactly as given)."""
        head = b64url(json.dumps({"alg": "ES256", "x5c": self.x5c}).encode())
        signing = ("%s.%s" % (head, b64url(payload_text))).encode()
        der = self._ssl("dgst", "-sha256", "-sign", self.p("leaf.key"), data=signing)
        # DER SEQUENCE { INTEGER r, INTEGER s } -> 64 bytes r || s
        i = 4 if der[1] & 0x80 else 2
        ints = []
        for _ in range(2):
            n = der[i + 1]
            ints.append(der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0"))
            i += 2 + n
        return "%s.%s" % (signing.decode(), b64url(ints[0] + ints[1]))


def apple_payload(uuid_member, extra=""):
    """A Sandbox TEST notification for BUNDLE; uuid_member is the raw "notificationUUID":... text."""
    return ('{"notificationType":"TEST",%s,"data":{"bundleId":"%s","environment":"Sandbox"%s},"version":"2.0",'
            '"signedDate":%d}' % (uuid_member, BUNDLE, extra, int(time.time() * 1000))).encode()


def message(r):
    """The reason a rejection carries (the error or message member), or the raw body."""
    try:
        doc = r.json()
    except ValueError:
        return r.body.decode(errors="replace")
    if not isinstance(doc, dict):
        return str(doc)
    return str(doc.get("details") or doc.get("error") or doc.get("message") or doc)


def run(kind, chain, vector):
    tmp = kt.make_tempdir("kanca-strict-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", max_body_bytes="1M")
    env.migrate()
    env.add_source("ikas", "shop", IKAS_SECRET)
    env.add_source("supplier", "acme", SUPPLIER_SECRET)
    env.add_source("stripe", "acct", STRIPE_SECRET)
    env.add_source("standardwebhooks", "sw", SW_SECRET)
    env._must("source", "add", "apple", "strict", "--root-cert", chain.root_pem, "--set", "bundle_id=" + BUNDLE,
              "--set", "environment=Sandbox")
    vpath, vaccount = kt.configure_vector_source(env, tmp, 0, vector, account="vec")
    _, _, vheaders, vbody = kt.vector_request(vector)
    t = kt.LighttpdTransport(env, tmp)
    t.start()
    L = "[%s]" % kind

    def events(provider, account):
        return store.count("events", "source_id = ?", (env.source_id(provider, account),))

    def refused(what, provider, account, path, headers, body, status, needle):
        """A signed request that must be refused with status, its reason holding needle, nothing stored."""
        before = events(provider, account)
        r = t.send("POST", path, headers, body)
        why = message(r)
        tap.ok(r.status == status and needle in why,
               "%s %s: %d, %s (got %d %s)" % (L, what, status, needle, r.status, why[:160]))
        tap.eq(events(provider, account), before, "%s %s: nothing stored" % (L, what))
        return r

    def accepted(what, provider, account, path, headers, body):
        before = events(provider, account)
        r = t.send("POST", path, headers, body)
        tap.ok(r.status == 200 and events(provider, account) == before + 1,
               "%s %s: accepted and stored (the twin of a refused one) (got %d %s)" % (L, what, r.status,
                                                                                      r.body[:160]))
        return r

    try:
        # ---- ikas: only data is signed; two data or two signature members make "which one" a guess ----
        ih = {"Content-Type": "application/json"}
        ip = "/webhook/ikas/shop"
        good = '{"id":"o-1","total":10}'
        accepted("ikas envelope", "ikas", "shop", ip, ih, ikas_body(good))
        refused("ikas: two data (an unsigned one first, the signed one last)", "ikas", "shop", ip, ih,
                ikas_body(good, before='"data":"{\\"id\\":\\"o-evil\\"}",'), 400, 'duplicate member "data"')
        refused("ikas: two data (the signed one first)", "ikas", "shop", ip, ih,
                ikas_body(good, after=',"data":"{\\"id\\":\\"o-evil\\"}"'), 400, 'duplicate member "data"')
        refused("ikas: two signature members", "ikas", "shop", ip, ih,
                ikas_body(good, before='"signature":"%s",' % ("0" * 64)), 400, 'duplicate member "signature"')
        refused("ikas: a member twice inside the signed data", "ikas", "shop", ip, ih,
                ikas_body('{"id":"o-1","id":"o-2"}'), 400, 'data: Invalid JSON: duplicate member "id"')
        refused("ikas: \\u0000 inside the signed data", "ikas", "shop", ip, ih,
                ikas_body('{"id":"o-1\\u0000x"}'), 400, "\\u0000")
        body = ikas_body(good).replace(b'{"id":"', b'{"id":"A\\u0000', 1)
        refused("ikas: \\u0000 in the envelope id", "ikas", "shop", ip, ih, body, 400, "\\u0000")

        # ---- supplier: the whole body is signed; event and vendorOfferId drive what is written ----
        sp = "/api/suppliers/acme/webhook"

        def sh(b):
            return {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SUPPLIER_SECRET, b)}

        def offer(event, data, event_id=None):
            return json.dumps({"eventId": event_id or str(uuid.uuid4()), "event": event, "data": data}).encode()

        def offers(vid=None):
            return store.count("offers", "vendor_offer_id = ?" if vid else "", (vid,) if vid else ())

        full = {"vendorOfferId": "T-1", "title": "Tur", "price": 150.00, "currency": "TRY", "category": "tours"}
        raw = offer("offer.created", full)
        accepted("supplier offer.created", "supplier", "acme", sp, sh(raw), raw)
        tap.eq(offers("T-1"), 1, "%s supplier: the offer is written" % L)
        body = b'{"eventId":"d-1","event":"stock.updated","event":"offer.deleted","data":{"vendorOfferId":"T-1"}}'
        refused("supplier: two event members", "supplier", "acme", sp, sh(body), body, 400,
                'duplicate member "event"')
        body = (b'{"eventId":"d-2","event":"offer.created","data":{"vendorOfferId":"T-2","title":"x","price":1,'
                b'"currency":"TRY","category":"c","vendorOfferId":"T-3"}}')
        refused("supplier: two vendorOfferId members", "supplier", "acme", sp, sh(body), body, 400,
                'duplicate member "vendorOfferId"')
        tap.eq(offers("T-2") + offers("T-3"), 0, "%s supplier: neither offer written" % L)
        body = offer("stock.updated", {"n": 1}, event_id="e-1").replace(b'"e-1"', b'"e-1\\u0000zz"')
        refused("supplier: \\u0000 in eventId", "supplier", "acme", sp, sh(body), body, 400, "\\u0000")
        n0 = offers()
        body = offer("offer.created", dict(full, vendorOfferId="T-1")).replace(b'"T-1"', b'"T-1\\u0000B"')
        refused("supplier: \\u0000 in vendorOfferId", "supplier", "acme", sp, sh(body), body, 400, "\\u0000")
        body = offer("offer.deleted", {"vendorOfferId": "T-1"}).replace(b'"T-1"', b'"T-1\\u0000ZZZ"')
        refused("supplier: offer.deleted for T-1\\u0000ZZZ", "supplier", "acme", sp, sh(body), body, 400, "\\u0000")
        tap.eq((offers(), store.query("SELECT status FROM offers WHERE vendor_offer_id = ?", ("T-1",))),
               (n0, [("active",)]), "%s supplier: no offer added, T-1 still active" % L)

        # numbers: finite and within the documented range, else 422 as any validation failure
        for text in ("1e999", "-1e999", "1e-99999", "12345678901234567890123", "1e15"):
            raw = ('{"eventId":"%s","event":"offer.created","data":{"vendorOfferId":"N-1","title":"x","price":%s,'
                   '"currency":"TRY","category":"c"}}' % (uuid.uuid4(), text)).encode()
            refused("supplier: price %s" % text, "supplier", "acme", sp, sh(raw), raw, 422, "price is out of range")
        tap.eq(offers("N-1"), 0, "%s supplier: no offer with an out-of-range price" % L)
        for text, vid in (("0", "N-0"), ("-0.0", "N-00"), ("999999999999.99", "N-9"), ("0.01", "N-c")):
            raw = ('{"eventId":"%s","event":"offer.created","data":{"vendorOfferId":"%s","title":"x","price":%s,'
                   '"currency":"TRY","category":"c"}}' % (uuid.uuid4(), vid, text)).encode()
            accepted("supplier: price %s" % text, "supplier", "acme", sp, sh(raw), raw)
            tap.eq(store.query("SELECT price FROM offers WHERE vendor_offer_id = ?", (vid,)), [(text,)],
                   "%s supplier: price %s stored as written" % (L, text))
        raw = offer("offer.updated", {"vendorOfferId": "T-1", "availableSeats": 3000000000})
        refused("supplier: availableSeats 3000000000", "supplier", "acme", sp, sh(raw), raw, 422, "availableSeats")
        raw = offer("offer.updated", {"vendorOfferId": "T-1", "availableSeats": 2147483647})
        accepted("supplier: availableSeats 2147483647", "supplier", "acme", sp, sh(raw), raw)

        # offer.updated never creates: the event is kept, the answer says nothing was updated
        n0 = offers()
        raw = offer("offer.updated", {"vendorOfferId": "NOPE-1", "price": 99}, event_id="upd-unknown")
        r = accepted("supplier: offer.updated of an unknown offer", "supplier", "acme", sp, sh(raw), raw)
        tap.eq(r.json() if r.status == 200 else r.body, {"success": True, "message": "Offer not found",
                                                         "event": "offer.updated", "result": {"updated": 0}},
               "%s supplier: ... answered Offer not found, updated 0" % L)
        tap.eq((offers("NOPE-1"), offers()), (0, n0), "%s supplier: ... and no offer created" % L)
        tap.eq(store.count("events", "idempotency_key = ?", ("upd-unknown",)), 1,
               "%s supplier: ... the event itself is stored" % L)
        r2 = t.send("POST", sp, sh(raw), raw)
        tap.eq((r2.status, r2.body), (r.status, r.body), "%s supplier: a repeat gets the same answer" % L)
        raw = offer("offer.updated", {"vendorOfferId": "T-1", "price": 120.50})
        r = accepted("supplier: offer.updated of a known offer", "supplier", "acme", sp, sh(raw), raw)
        tap.eq(r.json() if r.status == 200 else r.body, {"success": True, "message": "Offer updated",
                                                         "event": "offer.updated", "result": {"updated": 1}},
               "%s supplier: ... answered Offer updated, updated 1" % L)
        tap.eq(store.query("SELECT price, title FROM offers WHERE vendor_offer_id = ?", ("T-1",)),
               [("120.5", "Tur")], "%s supplier: ... the price changed, the title kept" % L)

        # ---- Stripe: the whole body is signed; id is the key, type the event type ----
        stp = "/webhook/stripe/acct"
        body = b'{"id":"evt_1","object":"event","type":"charge.succeeded","data":{"object":{"id":"ch_1"}}}'
        accepted("stripe event", "stripe", "acct", stp, stripe_headers(body), body)
        body = b'{"id":"evt_2","object":"event","id":"evt_5","type":"charge.succeeded"}'
        refused("stripe: two id members", "stripe", "acct", stp, stripe_headers(body), body, 400,
                'duplicate member "id"')
        body = b'{"id":"evt_3","type":"charge.succeeded","object":"event","type":"charge.refunded"}'
        refused("stripe: two type members", "stripe", "acct", stp, stripe_headers(body), body, 400,
                'duplicate member "type"')
        body = b'{"id":"evt_4\\u0000x","object":"event","type":"charge.succeeded"}'
        refused("stripe: \\u0000 in id", "stripe", "acct", stp, stripe_headers(body), body, 400, "\\u0000")
        body = b"not json at all, but signed"
        accepted("stripe: a signed body that is not JSON is still kept", "stripe", "acct", stp, stripe_headers(body),
                 body)

        # ---- Standard Webhooks: the id is a header; the body's type is the event type ----
        swp = "/webhook/standardwebhooks/sw"
        body = b'{"type":"user.created","data":{"id":"u1"}}'
        accepted("standardwebhooks message", "standardwebhooks", "sw", swp, sw_headers(body, "msg_1"), body)
        body = b'{"type":"user.created","data":{"id":"u1"},"type":"user.deleted"}'
        refused("standardwebhooks: two type members", "standardwebhooks", "sw", swp, sw_headers(body, "msg_2"), body,
                400, 'duplicate member "type"')
        body = b'{"type":"user.created","data":{"user":{"id":"u1","role":"user","role":"admin"}}}'
        refused("standardwebhooks: a member twice deep in data", "standardwebhooks", "sw", swp,
                sw_headers(body, "msg_3"), body, 400, 'duplicate member "role"')
        body = b'{"type":"user.created\\u0000","data":{}}'
        refused("standardwebhooks: \\u0000 in type", "standardwebhooks", "sw", swp, sw_headers(body, "msg_4"), body,
                400, "\\u0000")

        # ---- Apple: the body's signedPayload, and the signed payload itself ----
        ah = {"Content-Type": "application/json"}
        ap = "/webhook/apple/strict"
        jws = chain.jws(apple_payload('"notificationUUID":"%s"' % uuid.uuid4()))
        accepted("apple notification", "apple", "strict", ap, ah, json.dumps({"signedPayload": jws}).encode())
        jws = chain.jws(apple_payload('"notificationUUID":"%s"' % uuid.uuid4()))
        body = ('{"signedPayload":"not.a.jws","signedPayload":"%s"}' % jws).encode()
        refused("apple: two signedPayload members (ours)", "apple", "strict", ap, ah, body, 400,
                'duplicate member "signedPayload"')
        doc = json.loads(vbody)
        body = ('{"signedPayload":"x.y.z","signedPayload":%s}' % json.dumps(doc["signedPayload"])).encode()
        refused("apple: two signedPayload members (the vector's)", "apple", vaccount, vpath, vheaders, body, 400,
                'duplicate member "signedPayload"')
        accepted("apple: the vector itself", "apple", vaccount, vpath, vheaders, vbody)
        jws = chain.jws(apple_payload('"notificationUUID":"%s","notificationUUID":"%s"' % (uuid.uuid4(),
                                                                                            uuid.uuid4())))
        refused("apple: notificationUUID twice in the signed payload", "apple", "strict", ap, ah,
                json.dumps({"signedPayload": jws}).encode(), 400, "member name twice")
        jws = chain.jws(apple_payload('"notificationUUID":"%s"' % uuid.uuid4(), extra=',"bundleId":"com.evil"'))
        refused("apple: bundleId twice in the signed payload's data", "apple", "strict", ap, ah,
                json.dumps({"signedPayload": jws}).encode(), 400, "member name twice")
        jws = chain.jws(apple_payload('"notificationUUID":"u-1\\u0000x"'))
        refused("apple: \\u0000 in notificationUUID", "apple", "strict", ap, ah,
                json.dumps({"signedPayload": jws}).encode(), 400, "\\u0000")
    finally:
        t.stop()
        store.close()


chain = AppleChain(kt.make_tempdir("kanca-strict-apple-"))
vector = next(v for v in kt.load_vectors("apple") if v["expect"] == "valid" and v.get("trusted_root_pem"))
run("sqlite", chain, vector)
run("pg", chain, vector)
tap.done()
