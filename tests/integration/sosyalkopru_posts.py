#!/usr/bin/env python3
"""sosyalkopru_posts.py: the built-in Sosyal Köprü handler keeps the newest state of each post, keyed by
data.postId: post.* events are ordered by their ISO 8601 `timestamp`, so one that arrives late never
overwrites newer state; post.updated without a status keeps the stored one; webhook.test (a test event) writes nothing;
a post event without postId is retried, not marked processed. Processed by kancactl worker, on SQLite and
PostgreSQL."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "sk-posts-secret"


def event(kind, post_id, stamp, status=None, **data):
    d = {"postId": post_id, "platforms": [{"platform": "instagram", "status": status or "PENDING"}]}
    if status:
        d["status"] = status
    d.update(data)
    return json.dumps({"event": kind, "timestamp": stamp, "data": d}, ensure_ascii=False).encode()


def run(kind):
    tmp = kt.make_tempdir("kanca-skposts-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    env.add_source("sosyalkopru", "ajans", SECRET)
    env.add_source("trendyol", "555", "k", {"auth_mode": "api_key"})
    L = "[sosyalkopru_posts/%s]" % kind
    rc, out, err = env.kancactl("source", "action", "add", "sosyalkopru", "ajans", "builtin", "sosyalkopru_posts")
    tap.eq(rc, 0, "%s a builtin sosyalkopru_posts action" % L)
    rc, out, err = env.kancactl("source", "action", "add", "trendyol", "555", "builtin", "sosyalkopru_posts")
    tap.ok(rc == 2 and "sosyalkopru" in err, "%s refused on a trendyol source, saying why" % L)
    cgi = kt.CgiTransport(env)
    n = [0]

    def deliver(body):
        n[0] += 1
        r = cgi.send("POST", "/webhook/sosyalkopru/ajans",
                     {"Content-Type": "application/json", "X-SosyalKopru-Delivery": "dlv-%d" % n[0],
                      "X-SosyalKopru-Signature": "sha256=" + kt.sign_hex(SECRET, body)}, body)
        subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain"], capture_output=True,
                       env=env.environ(), timeout=60)
        return r.status

    def posts():
        return [tuple(str(x) for x in row) for row in store.query(
            "SELECT post_id, status, last_event, event_at FROM sosyalkopru_posts ORDER BY 1")]

    t0 = 1749556800000  # 2025-06-10T12:00:00Z in ms
    tap.eq(deliver(event("post.scheduled", "post_A", "2025-06-10T12:00:00.000Z")), 200, "%s post.scheduled" % L)
    tap.eq(posts(), [("post_A", "SCHEDULED", "post.scheduled", str(t0))],
           "%s stored, the status implied by the event" % L)
    tap.eq(deliver(event("post.published", "post_A", "2025-06-10T15:00:05.250+03:00", "PUBLISHED",
                         platformPostUrl="https://instagram.com/p/ÇAY")), 200, "%s post.published" % L)
    tap.eq(posts(), [("post_A", "PUBLISHED", "post.published", str(t0 + 5250))],
           "%s replaces it (the offset and milliseconds understood)" % L)
    tap.eq(deliver(event("post.publishing", "post_A", "2025-06-10T12:00:03Z")), 200,
           "%s an older post.publishing arrives late" % L)
    tap.eq(posts()[0][1:3], ("PUBLISHED", "post.published"), "%s and does not overwrite the newer state" % L)
    tap.eq(deliver(event("post.updated", "post_A", "2025-06-10T12:10:00Z")), 200, "%s post.updated, no status" % L)
    tap.eq(posts()[0][1:3], ("PUBLISHED", "post.updated"), "%s keeps the stored status" % L)
    tap.eq(deliver(event("post.failed", "post_B", "2025-06-10T12:11:00Z", "FAILED")), 200, "%s another post" % L)
    tap.eq([p[:2] for p in posts()], [("post_A", "PUBLISHED"), ("post_B", "FAILED")], "%s two posts kept" % L)
    data = json.loads(store.query("SELECT data FROM sosyalkopru_posts WHERE post_id = 'post_A'")[0][0])
    tap.eq(data.get("platforms"), [{"platform": "instagram", "status": "PENDING"}],
           "%s the post's data of the newest event is kept" % L)
    test_body = json.dumps({"event": "webhook.test", "timestamp": "2025-06-10T12:12:00Z", "data": {}}).encode()
    tap.eq(deliver(test_body), 200, "%s webhook.test" % L)
    tap.eq(store.count("sosyalkopru_posts"), 2, "%s writes no post" % L)
    tap.eq(str(store.query("SELECT status FROM events ORDER BY id DESC LIMIT 1")[0][0]), "test",
           "%s (it is stored as a test event, which no action runs on)" % L)
    tap.eq(store.count("events", "status = 'processed'"), 5, "%s every post event so far processed" % L)
    bad = json.dumps({"event": "post.published", "timestamp": "2025-06-10T12:13:00Z", "data": {}}).encode()
    tap.eq(deliver(bad), 200, "%s a post.published without postId is answered 200 (verified)" % L)
    row = store.query("SELECT status, attempts FROM events ORDER BY id DESC LIMIT 1")[0]
    tap.eq(str(row[0]), "retry", "%s and left for retry, not processed" % L)
    err_text = store.query("SELECT error FROM attempts ORDER BY id DESC LIMIT 1")[0][0]
    tap.ok("postId" in str(err_text), "%s the attempt names what is missing: %s" % (L, err_text))
    store.close()


run("sqlite")
run("pg")
tap.done()
