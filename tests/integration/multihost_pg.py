#!/usr/bin/env python3
"""multihost_pg.py: two kanca "hosts" sharing one PostgreSQL (doc/multihost.md).

Each host is its own lighttpd on its own 127.0.0.1 port with its own responders, configuration file
and spool directory; both point at the same throwaway cluster. Each host's store URI carries its own
application_name (kanca-a, kanca-b), and a test-only trigger on events records which host's backend
made each claim, so the split of the work can be seen.

1. The race: 1,000 unique deliveries, each sent to host A and to host B at the same time: 2,000 answers
   200, both copies of a key get the same answer, 1,000 events, one 'received' audit row per event.
   With processing = fork and a forward to a local sink, the processors of both hosts share the work
   (FOR UPDATE SKIP LOCKED): every event processed, claimed once, the sink sees each webhook-id once,
   and each host made some of the claims. The connections each host holds are counted.
2. kill -9 of host A's processors while they forward to a slow destination: host B takes their claims
   when the lease expires (not before), nothing is lost, the cut-short attempts are 'interrupted'.
3. Retention across hosts: 20,000 old processed events; both hosts' processors (each makes a retention pass
   as it starts) and a kancactl purge from each host at the same moment: no deadlock, every purge exits 0
   (a batch is one DELETE ... FOR UPDATE SKIP LOCKED); a purge alone afterwards exits 0, every old
   processed event and its attempts are gone, old events waiting for a retry and recent events are kept.
4. PgBouncer in front: session pooling works (both hosts, deliveries stored once and processed);
   transaction pooling works too: kanca names its prepared statements by a hash of their text, and a
   connection that the pool hands to other server connections (the statement missing, or already
   there) sends its statements unnamed from then on (src/store/pg.c).
"""
import collections
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
PGBOUNCER = kt.require_tool(tap, "pgbouncer", shutil.which("pgbouncer") or "/usr/sbin/pgbouncer")
_v = re.search(r"(\d+)\.(\d+)", subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True,
                                               timeout=10).stdout)
BOUNCER_VERSION = (int(_v.group(1)), int(_v.group(2))) if _v else (0, 0)
SECRET = "multihost-secret-5f0c2a9e7b1d3c6a8e4f2b9d1c7a5e3f"
UNIQUE = 1000
CONNS_PER_HOST = 4
PROCS = 2          # responders per host (each forks one processor)
LEASE = 4          # processing_lease of both hosts in the kill -9 case
HANG = 2           # seconds the slow destination takes
DEADLINE = 60      # seconds for one load loop
PREPARED_ERR = re.compile(r'prepared statement "k\d+" (already exists|does not exist)|bind message supplies \d+ '
                          r'parameters?, but prepared statement "k\d+" requires \d+')


def body_for(tag, i):
    return json.dumps({"eventId": "%s-%04d" % (tag, i), "event": "stock.updated",
                       "data": {"sku": "MH-%04d" % i, "stok": i % 97}}, separators=(",", ":")).encode()


class Host:
    """One kanca host: its own directory (config file, spool, lighttpd socket and log) and lighttpd."""

    def __init__(self, name, store, uri, **settings):
        self.name = name
        self.app = "kanca-" + name
        self.tmp = kt.make_tempdir("kanca-host-%s-" % name)
        sep = "&" if "?" in uri else "?"
        self.env = kt.Kanca(store, self.tmp, now="real", **settings)
        self.env.write_config(store=uri + sep + "application_name=" + self.app)
        self.t = None

    def start(self):
        self.t = kt.LighttpdTransport(self.env, self.tmp, max_procs=PROCS)
        self.t.start()
        return self

    def stop(self):
        if self.t:
            self.t.stop()
            self.t = None

    def restart(self, **changes):
        self.stop()
        self.env.write_config(**changes)
        return self.start()

    def log(self):
        try:
            with open(self.t.errorlog, "rb") as f:
                return f.read()
        except (OSError, AttributeError):
            return b""


def post(conn, account, body):
    conn.request("POST", "/api/suppliers/%s/webhook" % account, body=body,
                 headers={"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)})
    r = conn.getresponse()
    return r.status, r.read()


def load(hosts, account, tag, n, copies_to_each=True, conns=CONNS_PER_HOST):
    """Sends body_for(tag, 0..n-1); with copies_to_each every delivery goes to every host (one queue per
    host, in the same order, so that the copies race each other), else they are dealt out in turn.
    -> {(host name, i): (status, body)}; bounded by DEADLINE."""
    queues = {h.name: queue.Queue() for h in hosts}
    for i in range(n):
        if copies_to_each:
            for h in hosts:
                queues[h.name].put(i)
        else:
            queues[hosts[i % len(hosts)].name].put(i)
    results = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE

    def worker(h):
        conn = http.client.HTTPConnection("127.0.0.1", h.t.port, timeout=30)
        while time.monotonic() < stop_at:
            try:
                i = queues[h.name].get_nowait()
            except queue.Empty:
                break
            try:
                res = post(conn, account, body_for(tag, i))
            except (OSError, http.client.HTTPException) as e:
                res = (0, str(e).encode())
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", h.t.port, timeout=30)
            with lock:
                results[(h.name, i)] = res
        conn.close()

    threads = [threading.Thread(target=worker, args=(h,)) for h in hosts for _ in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(DEADLINE + 35)
    return results


def statuses(results):
    return dict(collections.Counter(st for st, _ in results.values()))


def q(store, sql, params=()):
    return store.query(sql, params)


def connections(store):
    """application_name -> backends of this database (this test's own psql excluded)."""
    return {a: int(c) for a, c in q(store, "SELECT application_name, count(*) FROM pg_stat_activity WHERE "
                                           "datname = current_database() AND pid <> pg_backend_pid() "
                                           "AND application_name LIKE 'kanca-%' GROUP BY 1")}


# --------------------------------------------------------------------------------------------

cluster = kt.PgCluster().start()
tmp = kt.make_tempdir("kanca-multihost-")
store = kt.make_store("pg", tmp, cluster)
sink = Sink().start()
kt.at_cleanup(sink.stop)
A = Host("a", store, cluster.uri(), processing="fork")
B = Host("b", store, cluster.uri(), processing="fork")
A.env.migrate()
A.env.add_source("supplier", "mh", SECRET)
rc, out, err = A.env.kancactl("source", "action", "add", "supplier", "mh", "forward", sink.url("/ok/mh"))
tap.eq(rc, 0, "a forward action to the local sink (added through host A's kancactl)")
# test-only: which backend (so which host) made each claim, and when
cluster.psql("CREATE TABLE mh_claims (event_id bigint, app text, at double precision)")
cluster.psql("CREATE FUNCTION mh_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "INSERT INTO mh_claims VALUES (NEW.id, current_setting('application_name'), "
             "extract(epoch FROM clock_timestamp())); RETURN NEW; END $$")
cluster.psql("CREATE TRIGGER mh_claim AFTER UPDATE OF status ON events FOR EACH ROW "
             "WHEN (NEW.status = 'processing') EXECUTE FUNCTION mh_claim()")
A.start()
B.start()
tap.ok(A.t.port != B.t.port and A.env.config != B.env.config and
       A.env.settings["spool_dir"] != B.env.settings["spool_dir"],
       "two hosts: own lighttpd port (%d, %d), own config file, own spool directory" % (A.t.port, B.t.port))

# ---- 1. the race, and the processors of both hosts sharing the work
t0 = time.monotonic()
res = load([A, B], "mh", "race", UNIQUE)
took = time.monotonic() - t0
tap.diag("race: %d answers in %.1f s" % (len(res), took))
tap.eq(len(res), 2 * UNIQUE, "[race] every delivery to both hosts got an answer")
tap.eq(statuses(res), {200: 2 * UNIQUE}, "[race] all %d answers are 200" % (2 * UNIQUE))
same = sum(1 for i in range(UNIQUE) if ("a", i) in res and res[("a", i)] == res.get(("b", i)))
tap.eq(same, UNIQUE, "[race] both copies of each delivery got the same answer")
sid = A.env.source_id("supplier", "mh")
tap.eq(store.count("events", "source_id = ?", (sid,)), UNIQUE, "[race] exactly %d events stored" % UNIQUE)
tap.eq(q(store, "SELECT count(*) FROM (SELECT event_id FROM audit_log WHERE action = 'received' AND source_id = ? "
                "GROUP BY event_id HAVING count(*) > 1) d", (sid,)), [("0",)],
       "[race] no event has two 'received' audit rows")
tap.eq(store.count("audit_log", "action = 'received' AND source_id = ?", (sid,)), UNIQUE,
       "[race] one 'received' audit row per event")

done = kt.wait_for(lambda: store.count("events", "source_id = ? AND status = 'processed'", (sid,)) == UNIQUE, 40,
                   interval=0.2)
tap.ok(done, "[share] every event processed (%s)" % dict(q(store, "SELECT status, count(*) FROM events WHERE "
                                                                  "source_id = ? GROUP BY 1", (sid,))))
wids = collections.Counter(r.header("webhook-id") for r in sink.requests("/ok/mh"))
pubs = {p for (p,) in q(store, "SELECT public_id FROM events WHERE source_id = ?", (sid,))}
tap.eq((len(wids), max(wids.values()) if wids else 0, set(wids) == pubs), (UNIQUE, 1, True),
       "[share] the sink saw each event's webhook-id exactly once")
claims = dict(q(store, "SELECT app, count(*) FROM mh_claims c JOIN events e ON e.id = c.event_id "
                       "WHERE e.source_id = ? GROUP BY app", (sid,)))
claims = {k: int(v) for k, v in claims.items()}
tap.diag("claims by host: %s" % claims)
tap.eq(sum(claims.values()), UNIQUE, "[share] %d claims in all: no event was claimed twice" % UNIQUE)
tap.ok(set(claims) == {"kanca-a", "kanca-b"} and min(claims.values()) > 0,
       "[share] both hosts' processors did part of the work (A %d, B %d)"
       % (claims.get("kanca-a", 0), claims.get("kanca-b", 0)))
conns = connections(store)
tap.diag("PostgreSQL connections by host after the race (%d responders per host, each with its processor): %s"
         % (PROCS, conns))
nproc = {h.name: (len(h.t.responders()), len(h.t.processors())) for h in (A, B)}
# a processor connects at its first statement: one that has not had its turn yet (the host's processors
# take turns) holds none
tap.ok(all(nproc[h.name][0] <= conns.get(h.app, 0) <= sum(nproc[h.name]) for h in (A, B)),
       "[connections] one connection per responder and at most one per processor on each host (%s; responders, "
       "processors: %s)" % (conns, nproc))
for h in (A, B):
    log = h.log()
    tap.ok(SECRET.encode() not in log and b"X-Signature" not in log,
           "[race] host %s's log holds neither the secret nor a signature header" % h.name.upper())

# ---- 2. kill -9 of host A's processors in mid-batch; host B takes their claims after the lease. B is down
# while A takes the deliveries (so that A, not B's once-a-second look, claims them) and comes up after
# the kill.
B.stop()
B.env.write_config(processing_lease=str(LEASE))
A.restart(processing_lease=str(LEASE))
A.env.add_source("supplier", "slow", SECRET)
A.env.kancactl("source", "action", "add", "supplier", "slow", "forward", sink.url("/hang/%d/slow" % HANG),
               "--timeout", "10")
sid_slow = A.env.source_id("supplier", "slow")
N_SLOW = 8
res = load([A], "slow", "slow", N_SLOW, copies_to_each=False, conns=2)
tap.eq(statuses(res), {200: N_SLOW}, "[kill] %d deliveries to a slow destination answered by host A" % N_SLOW)


def a_holding():
    """events host A's processors hold right now (claimed by kanca-a, still processing)"""
    return [int(e) for (e,) in q(store, "SELECT e.id FROM events e WHERE e.source_id = ? AND e.status = 'processing' "
                                        "AND (SELECT app FROM mh_claims c WHERE c.event_id = e.id ORDER BY at DESC "
                                        "LIMIT 1) = 'kanca-a'", (sid_slow,))]


# host A's processors take turns (one works, the other waits for the turn lock): the one at work holds a
# batch of claims, up to 4 of its deliveries in flight at once (the forward's default concurrency)
def a_in_flight():
    """host A holds claims and one of them is at the sink, not yet answered"""
    mine = {kt.public_id(store, e) for e in a_holding()}
    return any(r.status is None and r.header("webhook-id") in mine for r in sink.requests("/hang/%d/slow" % HANG))


inflight = kt.wait_for(a_in_flight, 15)
victims = A.t.processors()
# stopped first, then looked at, then killed: what they hold cannot change in between, and the processor
# waiting for the turn cannot take it (and claim) in the moment between two kills
for p in victims:
    os.kill(p, signal.SIGSTOP)
held = a_holding()
sent = {r.header("webhook-id") for r in sink.requests("/hang/%d/slow" % HANG)}
for p in victims:
    os.kill(p, signal.SIGKILL)
killed = time.time()
B.start()
tap.ok(inflight and held and sent, "[kill] host A's processor holds a batch of %d claims with %d deliveries in flight"
       % (len(held), len(sent)))
tap.eq(len(victims), PROCS, "[kill] kill -9 of host A's %d processors" % PROCS)
time.sleep(0.5)
tap.eq(sorted(a_holding()), sorted(held), "[kill] their events stay claimed by host A")
done = kt.wait_for(lambda: store.count("events", "source_id = ? AND status = 'processed'", (sid_slow,)) == N_SLOW,
                   N_SLOW * HANG + LEASE + 20, interval=0.2)
tap.ok(done, "[kill] every event processed, no request to host A needed (%s)"
       % dict(q(store, "SELECT status, count(*) FROM events WHERE source_id = ? GROUP BY 1", (sid_slow,))))
tap.eq(A.t.processors(), [], "[kill] (host A got no request since: it has no processor)")
retaken = []
for e in held:
    rows = q(store, "SELECT app, at FROM mh_claims WHERE event_id = ? ORDER BY at", (e,))
    retaken.append((rows[0][0], [r[0] for r in rows[1:]], float(rows[1][1]) - float(rows[0][1]) if len(rows) > 1 else 0.0))
tap.diag("the killed claims: (first claim, claimed again by, seconds between): %s" % retaken)
# (a delivery of B's batch that would outlast B's own lease is given back unstarted and claimed again)
tap.ok(all(first == "kanca-a" and again and set(again) == {"kanca-b"} and gap >= LEASE - 1
           for first, again, gap in retaken),
       "[kill] host B claimed each of them again, only after the %d s lease (A's claim to B's first: %s)"
       % (LEASE, ["%.1f s" % g for _, _, g in retaken]))
att = {e: [tuple(r) for r in q(store, "SELECT outcome, ended_at IS NOT NULL FROM attempts WHERE event_id = ? "
                                      "ORDER BY id", (e,))] for e in held}
tap.ok(all(a[-1] == ("ok", "t") and all(x == ("interrupted", "t") for x in a[:-1]) for a in att.values()),
       "[kill] each held event's attempts: the cut-short ones interrupted, then ok (%s)"
       % sorted(set(map(tuple, att.values()))))
slow_wids = collections.Counter(r.header("webhook-id") for r in sink.requests("/hang/%d/slow" % HANG))
cut = sorted(sent & {kt.public_id(store, e) for e in held})  # sent by the killed batch, not recorded as done
tap.eq((len(slow_wids), sorted(w for w, c in slow_wids.items() if c == 2), max(slow_wids.values())),
       (N_SLOW, cut, 2),
       "[kill] the sink saw every webhook-id: the %d the killed batch had sent twice, the others once" % len(cut))
others = store.count("events e", "e.source_id = ? AND (SELECT count(*) FROM attempts a WHERE a.event_id = e.id) <> 1",
                     (sid_slow,))
held_with_attempt = sum(1 for a in att.values() if len(a) > 1)
tap.eq(others, held_with_attempt, "[kill] every event not cut short has exactly one attempt")


# ---- 3. retention across hosts: both hosts' processors and two kancactl purges at the same moment
N_OLD, N_WAIT = 20000, 5
DAY = 86400
now = int(time.time())
tpl = q(store, "SELECT min(id) FROM events WHERE source_id = ? AND status = 'processed'", (sid,))[0][0]
cols = q(store, "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                "WHERE table_name = 'events' AND column_name NOT IN ('id', 'idempotency_key', 'public_id', "
                "'received_at', 'status', 'next_attempt_at')")[0][0]
# copies of a processed event kanca stored, 32 to 40 days old, each with an attempt; and some old events
# still waiting for a retry, which retention must never remove
q(store, "INSERT INTO events (idempotency_key, public_id, received_at, status, next_attempt_at, %s) "
         "SELECT 'old-' || i, 'evt_' || md5('old-' || i), CAST(? AS bigint) + i %% (8 * 86400), "
         "CASE WHEN i <= CAST(? AS int) THEN 'retry' ELSE 'processed' END, "
         "CASE WHEN i <= CAST(? AS int) THEN CAST(? AS bigint) END, %s "
         "FROM events, generate_series(1, CAST(? AS int)) AS i WHERE id = CAST(? AS bigint)" % (cols, cols),
         (now - 40 * DAY, N_WAIT, N_WAIT, now + DAY, N_OLD + N_WAIT, tpl))
q(store, "INSERT INTO attempts (event_id, action, started_at, ended_at, outcome) SELECT id, 'forward', received_at, "
         "received_at, 'ok' FROM events WHERE idempotency_key LIKE 'old-%' AND status = 'processed'")
q(store, "ANALYZE")
for h in (A, B):
    h.stop()
for h in (A, B):
    h.env.write_config(retention="30d")
# each processor makes a retention pass as it starts: both hosts' processors and two purges collide
for h in (A, B):
    h.start()
purges = [subprocess.Popen([kt.binary("kancactl"), "-c", h.env.config, "purge", "--retention"], env=h.env.environ(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE) for h in (A, B)]
outs = [p.communicate(timeout=120) for p in purges]
rcs = [p.returncode for p in purges]
time.sleep(0.5)
deadlocks = sum(o[1].count(b"deadlock detected") for o in outs) + sum(h.log().count(b"deadlock detected")
                                                                      for h in (A, B))
tap.diag("[retention] concurrent kancactl purge exits %s; 'deadlock detected' seen %d times (kancactl and the "
         "processors' retention passes)" % (rcs, deadlocks))
tap.eq((rcs, deadlocks), ([0, 0], 0), "[retention] two purges and both hosts' retention passes at once: every "
       "purge exits 0, no deadlock (each batch one DELETE that skips the rows another purger holds)")
rc, out, err = A.env.kancactl("purge", "--retention", timeout=120)
tap.eq(rc, 0, "[retention] kancactl purge --retention alone afterwards exits 0")
tap.eq(store.count("events", "idempotency_key LIKE 'old-%' AND status = 'processed'"), 0,
       "[retention] every processed event older than 30 days is gone")
tap.eq(store.count("attempts", "event_id NOT IN (SELECT id FROM events)"), 0, "[retention] ... with its attempts")
tap.eq(store.count("events", "idempotency_key LIKE 'old-%' AND status = 'retry'"), N_WAIT,
       "[retention] the old events still waiting for a retry are all kept")
tap.eq(store.count("events", "source_id = ? AND idempotency_key NOT LIKE 'old-%'", (sid,)), UNIQUE,
       "[retention] the recent events are all kept")


# ---- 4. PgBouncer in front of PostgreSQL
class Bouncer:
    """pgbouncer on a unix socket in its own directory (as nobody when root: it refuses root)."""

    def __init__(self, mode, pool_size):
        self.mode = mode
        self.dir = kt.make_tempdir("kanca-bouncer-")
        self.port = kt.free_port()  # names the socket file only: listen_addr is empty
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        self.logfile = os.path.join(self.dir, "pgbouncer.log")
        with open(os.path.join(self.dir, "users.txt"), "w") as f:
            f.write('"kanca" ""\n')
        track = ""
        if mode == "transaction" and BOUNCER_VERSION >= (1, 21):
            # 1.21 and later can track protocol-level prepared statements; this case is the pool without it
            track = "max_prepared_statements = 0\n"
        with open(self.ini, "w") as f:
            f.write("[databases]\nkanca = host=%s port=%d dbname=kanca user=kanca\n\n[pgbouncer]\n"
                    "listen_addr =\nlisten_port = %d\nunix_socket_dir = %s\nauth_type = trust\n"
                    "auth_file = %s/users.txt\npool_mode = %s\ndefault_pool_size = %d\nmax_client_conn = 100\n"
                    "logfile = %s\npidfile = %s/pgbouncer.pid\n%s"
                    % (cluster.dir, cluster.port, self.port, self.dir, self.dir, mode, pool_size, self.logfile,
                       self.dir, track))
        cmd = [PGBOUNCER, self.ini]
        if os.geteuid() == 0:
            kt.give_to(kt.service_user(), self.dir)
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        kt.at_cleanup(self.stop)
        sock = os.path.join(self.dir, ".s.PGSQL.%d" % self.port)
        if not kt.wait_for(lambda: os.path.exists(sock) or self.proc.poll() is not None, 10) or \
                self.proc.poll() is not None:
            raise RuntimeError("pgbouncer did not start: %s" % self.log_tail())

    def uri(self):
        return "postgresql:///kanca?host=%s&port=%d&user=kanca" % (self.dir, self.port)

    def log_tail(self, n=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kt.kill_group(self.proc.pid)
            self.proc.wait(timeout=5)


A.stop()
B.stop()
admin = kt.Kanca(store, tmp, now="real")  # kancactl straight to PostgreSQL
N_BOUNCE = 200
# session pooling: one server connection per kanca connection while it lasts (the pool must be as large
# as the clients); transaction pooling: 2 server connections shared by the 8 kanca connections
for mode, pool_size in (("session", 20), ("transaction", 2)):
    L = "[pgbouncer %s]" % mode
    bouncer = Bouncer(mode, pool_size)
    acc = "pgb" + mode[0]
    admin.add_source("supplier", acc, SECRET)
    admin.kancactl("source", "action", "add", "supplier", acc, "forward", sink.url("/ok/" + acc))
    sid_b = admin.source_id("supplier", acc)
    for h in (A, B):
        uri = bouncer.uri() + "&application_name=" + h.app
        h.restart(store=uri, processing_lease="60")
    res = load([A, B], acc, acc, N_BOUNCE, copies_to_each=True, conns=2)
    st = statuses(res)
    stored = store.count("events", "source_id = ?", (sid_b,))
    processed = kt.wait_for(lambda: store.count("events", "source_id = ? AND status = 'processed'", (sid_b,)) == stored
                            and stored > 0, 20 if mode == "session" else 5, interval=0.2)
    forwarded = collections.Counter(r.header("webhook-id") for r in sink.requests("/ok/" + acc))
    tap.diag("%s answers %s, %d events stored, forwarded %d (max %d per webhook-id)"
             % (L, st, stored, len(forwarded), max(forwarded.values()) if forwarded else 0))
    errors = collections.Counter()
    for h in (A, B):
        errors.update(m.group(0) for m in PREPARED_ERR.finditer(h.log().decode("utf-8", "replace")))
    if errors:
        tap.diag("%s in kanca's logs: %s" % (L, dict(errors)))
    good = (st == {200: 2 * N_BOUNCE} and stored == N_BOUNCE and bool(processed)
            and len(forwarded) == N_BOUNCE and max(forwarded.values()) == 1)
    tap.ok(good, "%s both hosts through PgBouncer: %d deliveries x 2 answered 200, stored once, processed "
                 "and forwarded once" % (L, N_BOUNCE))
    if mode == "transaction":
        # the statements are named by a hash of their text (one name, one statement, on every server
        # connection); a connection that finds them missing or already there sends them unnamed
        logs = b"".join(h.log() for h in (A, B)).decode("utf-8", "replace")
        tap.ok("does not keep prepared statements" in logs,
               "%s kanca saw the pool hand its transactions to other server connections and went unnamed" % L)
        tap.ok("bind message supplies" not in logs,
               "%s never another client's statement under its name (no parameter-count mismatch)" % L)
    tap.diag("%s PostgreSQL backends by application_name: %s" % (L, connections(store)))
    for h in (A, B):
        h.stop()
    bouncer.stop()

tap.done()
