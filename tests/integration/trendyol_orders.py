#!/usr/bin/env python3
"""trendyol_orders.py: the built-in Trendyol handler keeps the newest state of each shipment package,
keyed by shipmentPackageId: a package that arrives out of order (older lastModifiedDate) never
overwrites newer state. Processed by kancactl worker, on SQLite and PostgreSQL."""
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
KEY = "ty-orders-api-key"


def page(*pkgs):
    content = [{"shipmentPackageId": pid, "orderNumber": "ON-%d" % pid, "status": st, "shipmentPackageStatus": st,
                "lastModifiedDate": lm, "lines": [{"productName": "Çay"}]} for pid, st, lm in pkgs]
    return json.dumps({"totalElements": len(content), "totalPages": 1, "page": 0, "size": len(content),
                       "content": content}).encode()


def run(kind):
    tmp = kt.make_tempdir("kanca-tyorders-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    env.add_source("trendyol", "555", KEY, {"auth_mode": "api_key"})
    L = "[trendyol_orders/%s]" % kind
    rc, out, err = env.kancactl("source", "action", "add", "trendyol", "555", "builtin", "trendyol_orders")
    tap.eq(rc, 0, "%s a builtin trendyol_orders action" % L)
    rc, out, err = env.kancactl("source", "action", "add", "trendyol", "555", "builtin", "nope")
    tap.eq(rc, 2, "%s an unknown handler is refused" % L)
    cgi = kt.CgiTransport(env)

    def deliver(body):
        r = cgi.send("POST", "/webhook/ty/555", {"Content-Type": "application/json", "x-api-key": KEY}, body)
        subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain"], capture_output=True,
                       env=env.environ(), timeout=60)
        return r.status

    def orders():
        return [tuple(str(x) for x in row) for row in store.query(
            "SELECT shipment_package_id, order_number, status, last_modified FROM trendyol_orders ORDER BY 1")]

    tap.eq(deliver(page((101, "Shipped", 2000), (102, "Created", 1500))), 200, "%s a page of two packages" % L)
    tap.eq(orders(), [("101", "ON-101", "Shipped", "2000"), ("102", "ON-102", "Created", "1500")],
           "%s both packages upserted" % L)
    tap.eq(deliver(page((101, "Picking", 1000))), 200, "%s an older state of 101 arrives late" % L)
    tap.eq(orders()[0], ("101", "ON-101", "Shipped", "2000"), "%s and does not overwrite the newer state" % L)
    tap.eq(deliver(page((101, "Delivered", 3000))), 200, "%s a newer state of 101" % L)
    tap.eq(orders()[0], ("101", "ON-101", "Delivered", "3000"), "%s replaces it" % L)
    tap.eq(store.count("events", "status = 'processed'"), 4, "%s every event processed" % L)
    pkg = store.query("SELECT package FROM trendyol_orders WHERE shipment_package_id = '101'")[0][0]
    tap.eq(json.loads(pkg)["lines"], [{"productName": "Çay"}], "%s the whole package is kept" % L)
    store.close()


run("sqlite")
run("pg")
tap.done()
