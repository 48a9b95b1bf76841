"""Issue 19: several linktrack-server processes behind nginx writing to one PostgreSQL (or one webhook receiver);
the store outage path (the disk spool) and kill -9 with a spool that holds events.

Each test builds its own clicks and opens with `linktrack filter` (every request distinct: one message id and link
index each), sends them over HTTP, and checks the store: every acknowledged request (a complete 302 or 200
received) appears exactly once, nothing else appears, and the spools end empty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from scaleout_support import (SERVER_BIN, Load, Server, expected_key, keygen, make_hits, wait_until,
                              webhook_signature, write_config)
# Fixtures (pytest finds them in the test module's namespace).
from scaleout_support import (_binaries_exist, balancer, controllable_pg, database, outage_database,  # noqa: F401
                              pg_cluster, servers, webhook_receiver)


def report(config: Path, data: Path) -> dict:
    out = subprocess.run([str(SERVER_BIN), "report", "--config", str(config), "--data-directory", str(data),
                          "--format", "json"], check=True, capture_output=True, timeout=60).stdout
    sets = json.loads(out)["ConfigurationSets"]
    return {s["ConfigurationSetName"]: s for s in sets}


def assert_each_once(db, hits, acknowledged):
    """Every acknowledged hit is in the store exactly once; any other hit at most once; nothing else."""
    occurrences = db.occurrences()
    acked = {expected_key(o.hit) for o in acknowledged}
    everything = {expected_key(h) for h in hits}
    missing = [k for k in acked if occurrences.get(k, 0) != 1]
    assert not missing, f"{len(missing)} acknowledged events not stored exactly once, e.g. {missing[:3]} -> " \
                        f"{[occurrences.get(k) for k in missing[:3]]}"
    extra = {k: n for k, n in occurrences.items() if k not in everything or n != 1}
    assert not extra, f"unexpected rows: {list(extra.items())[:5]}"


def spools_empty(*servers: Server) -> bool:
    return all(s.spool_bytes() == 0 for s in servers)


def assert_spool_files_empty(*servers: Server):
    for s in servers:
        for f in s.spool_files():
            assert f.stat().st_size == 16, f"{f} holds {f.stat().st_size} bytes"


def pg_destination(db) -> dict:
    return {"Type": "PostgreSQL", "ConnectionString": db.url}


# ---------------------------------------------------------------------------------------------------------------
# Two servers, one PostgreSQL, one balancer


def test_two_servers_behind_nginx_store_each_click_and_open_exactly_once(tmp_path, database, servers, balancer):
    config = write_config(tmp_path / "config.json", pg_destination(database), keygen())
    a = servers(config, tmp_path / "a")
    b = servers(config, tmp_path / "b")
    lb = balancer([a.port, b.port])
    hits = make_hits(config, messages=60, links=15)          # 900 clicks + 60 opens
    load = Load(lb.port, hits, threads=8).start()
    load.join()
    acked = load.acknowledged()
    assert len(acked) == len(hits), f"{len(hits) - len(acked)} requests were not answered"
    statuses = {o.hit.kind: o.status for o in acked}
    assert statuses == {"Click": 302, "Open": 200}
    # Both servers took part.
    for s in (a, b):
        assert s.metric("linktrack_events_total") > 0, s.log
    wait_until(lambda: database.count() >= len(hits), timeout=60, message="every event in PostgreSQL")
    assert database.count() == len(hits)
    assert_each_once(database, hits, acked)
    assert int(database.rows("SELECT count(DISTINCT event_id) FROM linktrack_events")[0][0]) == len(hits)
    # The events carry the reader's address (nginx is a trusted proxy) and the SES JSON.
    ip, event_json = database.rows("SELECT ip_address, event_json FROM linktrack_events LIMIT 1")[0]
    assert ip == "127.0.0.1"
    assert json.loads(event_json)["mail"]["tags"]["ses:configuration-set"] == ["marketing"]
    assert spools_empty(a, b)
    # `report` reads PostgreSQL (from either server's configuration) with the usual counts.
    r = report(config, tmp_path / "a")["marketing"]
    assert (r["Clicks"], r["UniqueClicks"], r["Opens"], r["UniqueOpens"]) == (900, 900, 60, 60)
    assert a.stop() == 0 and b.stop() == 0


def test_postgres_stopped_mid_load_every_acknowledged_event_arrives_once(tmp_path, outage_database, servers, balancer):
    db = outage_database
    config = write_config(tmp_path / "config.json", pg_destination(db), keygen())
    a = servers(config, tmp_path / "a")
    b = servers(config, tmp_path / "b")
    lb = balancer([a.port, b.port])
    hits = make_hits(config, messages=80, links=15)          # 1,280 requests
    load = Load(lb.port, hits, threads=8, pace=0.04).start()
    load.wait_done(0.3)
    down_at = time.monotonic()
    db.cluster.pause()
    # While PostgreSQL is down the servers spool (and say so).
    wait_until(lambda: a.spool_bytes() > 0 and b.spool_bytes() > 0, timeout=60, message="both servers spooling")
    assert "spooling" in a.ready_text()
    load.wait_done(0.7)
    db.cluster.resume()
    up_at = time.monotonic()
    load.join()
    acked = load.acknowledged()
    assert len(acked) == len(hits), f"{len(hits) - len(acked)} requests were not answered during the outage"
    during = [o for o in acked if down_at <= o.finished_at - o.latency and o.finished_at <= up_at]
    assert during, "no request fell inside the outage"
    p50, p99 = load.percentile(0.5, during), load.percentile(0.99, during)
    print(f"\noutage {up_at - down_at:.1f}s: {len(during)} requests answered, p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {max(o.latency for o in during) * 1000:.1f} ms")
    # Redirects never waited for the dead store: the bound is 100 ms, plus a loaded machine's scheduling.
    assert p99 < 1.0
    spooled = a.metric("linktrack_events_spooled_total") + b.metric("linktrack_events_spooled_total")
    assert spooled > 0
    # The spools drain once PostgreSQL is back; every acknowledged event is stored once.
    wait_until(lambda: spools_empty(a, b) and db.count() >= len(hits), timeout=120,
               message="spools drained into PostgreSQL")
    assert db.count() == len(hits)
    assert_each_once(db, hits, acked)
    assert_spool_files_empty(a, b)
    assert a.metric("linktrack_events_lost_total") == 0 and b.metric("linktrack_events_lost_total") == 0
    assert "ok" in a.ready_text().splitlines()[1]


def test_kill9_while_the_spool_holds_events_then_replay_after_restart(tmp_path, outage_database, servers):
    db = outage_database
    config = write_config(tmp_path / "config.json", pg_destination(db), keygen())
    s = servers(config, tmp_path / "a")
    # Let the server create the schema, then take PostgreSQL away.
    wait_until(lambda: db.rows("SELECT to_regclass('linktrack_events') IS NOT NULL")[0][0] == "t", timeout=30,
               message="schema created at start")
    db.cluster.pause()
    hits = make_hits(config, messages=25, links=15)          # 400 requests
    load = Load(s.port, hits, threads=8).start()
    load.join()
    acked = load.acknowledged()
    assert len(acked) == len(hits)
    wait_until(lambda: s.spool_events() == len(hits), timeout=30, message="every event in the spool")
    s.kill9()
    spool = s.spool_files()
    assert spool and spool[0].stat().st_size > 16
    db.cluster.resume()
    assert db.count() == 0
    s.restart()
    wait_until(lambda: db.count() >= len(hits) and s.spool_bytes() == 0, timeout=120, message="spool replayed")
    assert db.count() == len(hits)
    assert_each_once(db, hits, acked)
    assert_spool_files_empty(s)
    assert "replaying spooled events" in s.log


def test_kill9_mid_load_with_postgres_down_loses_no_acknowledged_event(tmp_path, outage_database, servers):
    db = outage_database
    config = write_config(tmp_path / "config.json", pg_destination(db), keygen())
    s = servers(config, tmp_path / "a")
    wait_until(lambda: db.rows("SELECT to_regclass('linktrack_events') IS NOT NULL")[0][0] == "t", timeout=30,
               message="schema created at start")
    db.cluster.pause()
    hits = make_hits(config, messages=50, links=15)          # 800 requests
    load = Load(s.port, hits, threads=8, pace=0.01).start()
    load.wait_done(0.5)
    s.kill9()
    load.join()
    acked = load.acknowledged()
    assert 0 < len(acked) < len(hits)
    db.cluster.resume()
    s.restart()
    wait_until(lambda: s.spool_bytes() == 0 and db.count() >= len(acked), timeout=120, message="spool replayed")
    # Every request whose answer arrived is stored once; one killed in flight at most once.
    assert_each_once(db, hits, acked)
    assert_spool_files_empty(s)


# ---------------------------------------------------------------------------------------------------------------
# Webhook


def webhook_setup(tmp_path, receiver) -> Path:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_bytes(receiver.secret + b"\n")
    return write_config(tmp_path / "config.json", {"Type": "Webhook", "Url": receiver.url, "SecretFile": str(secret_file)},
                        keygen())


def assert_each_delivered_once(receiver, hits, acknowledged):
    """Every acknowledged hit reached the receiver as exactly one event (one event id; the same batch may arrive
    twice, at-least-once, but no hit becomes two events)."""
    occurrences = receiver.occurrences()
    everything = {expected_key(h) for h in hits}
    missing = [expected_key(o.hit) for o in acknowledged if len(occurrences.get(expected_key(o.hit), ())) != 1]
    assert not missing, f"{len(missing)} acknowledged events not delivered exactly once, e.g. {missing[:3]}"
    extra = {k: v for k, v in occurrences.items() if k not in everything or len(v) != 1}
    assert not extra, f"unexpected events: {list(extra.items())[:5]}"


def test_webhook_answering_503_then_200_receives_every_event(tmp_path, servers, balancer, webhook_receiver):
    receiver = webhook_receiver(os.urandom(32))
    config = webhook_setup(tmp_path, receiver)
    a = servers(config, tmp_path / "a")
    b = servers(config, tmp_path / "b")
    lb = balancer([a.port, b.port])
    hits = make_hits(config, messages=40, links=12)          # 520 requests
    load = Load(lb.port, hits, threads=8, pace=0.01).start()
    load.wait_done(0.6)
    wait_until(lambda: receiver.answered_503 > 0 and a.spool_bytes() + b.spool_bytes() > 0, timeout=30,
               message="503s and spooling")
    receiver.unavailable = False
    load.join()
    acked = load.acknowledged()
    assert len(acked) == len(hits)
    wait_until(lambda: spools_empty(a, b) and len(set(receiver.event_ids())) >= len(hits), timeout=120,
               message="spools drained to the receiver")
    assert_each_delivered_once(receiver, hits, acked)
    assert receiver.refused == 0, "a batch failed the receiver's signature check"
    ids = receiver.event_ids()
    print(f"\nwebhook: {len(receiver.deliveries)} batches, {len(ids)} events delivered, "
          f"{len(ids) - len(set(ids))} repeated deliveries, {receiver.answered_503} answers 503")
    assert_spool_files_empty(a, b)

    # Every accepted batch verifies; a tampered one does not (the receiver's own check, Python's hmac).
    delivery = receiver.deliveries[0]
    assert delivery.signature == webhook_signature(receiver.secret, delivery.timestamp, delivery.body)
    body = delivery.body
    tampered = body.replace(b'"eventType":"Click"', b'"eventType":"Open"', 1) if b'"Click"' in body \
        else body.replace(b'"Open"', b'"Click"', 1)
    assert tampered != body
    assert not receiver.verify(delivery.timestamp, delivery.signature, tampered)
    assert not receiver.verify(str(int(delivery.timestamp) + 1), delivery.signature, body)
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    c.request("POST", "/hook", body=tampered, headers={"X-LinkTrack-Timestamp": delivery.timestamp,
                                                        "X-LinkTrack-Signature": delivery.signature,
                                                        "Content-Type": "application/json"})
    assert c.getresponse().status == 401
    c.close()
    assert receiver.refused == 1


def test_webhook_kill9_with_a_spool_then_restart_delivers_everything(tmp_path, servers, webhook_receiver):
    receiver = webhook_receiver(os.urandom(32))
    config = webhook_setup(tmp_path, receiver)
    s = servers(config, tmp_path / "a")
    hits = make_hits(config, messages=20, links=10)          # 220 requests
    load = Load(s.port, hits, threads=8).start()
    load.join()
    acked = load.acknowledged()
    assert len(acked) == len(hits)
    wait_until(lambda: s.spool_events() == len(hits), timeout=30, message="every event in the spool")
    s.kill9()
    receiver.unavailable = False
    s.restart()
    wait_until(lambda: s.spool_bytes() == 0 and len(set(receiver.event_ids())) >= len(hits), timeout=120,
               message="spool replayed to the receiver")
    assert_each_delivered_once(receiver, hits, acked)
    assert receiver.refused == 0
    assert_spool_files_empty(s)
