#!/usr/bin/env python3
"""Prints the table of Benchmarks/server/postgres.sh's results (Benchmarks/Results/server-pg/) in Markdown and
writes it to summary.md there. usage: summarize_postgres.py [RESULTS_DIR]"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "Results", "server-pg")


def load(name):
    path = os.path.join(RESULTS, name)
    return json.load(open(path)) if os.path.exists(path) else None


def text(name):
    path = os.path.join(RESULTS, name)
    return open(path).read().strip() if os.path.exists(path) else None


def row(name, label, baseline_rate):
    w = load(f"{name}.wrk.json")
    if w is None:
        return None
    seconds = w["duration_us"] / 1e6
    rate = w["requests"] / seconds
    cpu, hwm = [], []
    i = 0
    while load(f"{name}.proc{i}-before.json"):
        before, after = load(f"{name}.proc{i}-before.json"), load(f"{name}.proc{i}-after.json")
        cpu.append((after["cpu_seconds"] - before["cpu_seconds"]) / seconds)
        hwm.append(after["vm_hwm_kb"] / 1024)
        i += 1
    rows_before, rows_after = text(f"{name}.rows-before"), text(f"{name}.rows-after")
    rows_per_s = (int(rows_after) - int(rows_before)) / seconds if rows_before and rows_after else None
    stored = load(f"{name}.stored.json") or load(f"{name}.drain.json")
    e = w["errors"]
    return {
        "name": name, "label": label, "rate": rate, "ratio": rate / baseline_rate if baseline_rate else None,
        "p50_ms": w["latency_us"]["p50"] / 1000, "p99_ms": w["latency_us"]["p99"] / 1000,
        "max_ms": w["latency_us"]["max"] / 1000, "cpu": cpu, "hwm_mb": hwm, "rows_per_s": rows_per_s,
        "stored": stored, "errors": e["status"] + e["connect"] + e["read"] + e["write"] + e["timeout"],
    }


def main():
    machine = load("machine.json") or {}
    base = [load(f"{n}.wrk.json") for n in ("a-baseline",)]
    baseline_rate = max((w["requests"] / (w["duration_us"] / 1e6) for w in base if w), default=None)
    rows = [r for r in (
        row("a-baseline", "(a) Hummingbird fixed 302 (baseline)", baseline_rate),
        row("s-sqlite", "(s) linktrack-server, SQLite sink (reference)", baseline_rate),
        row("p-postgres", "(p) linktrack-server, PostgreSQL sink", baseline_rate),
        row("n1-one-behind-nginx", "(n1) one server behind nginx, PostgreSQL", baseline_rate),
        row("n2-two-behind-nginx", "(n2) two servers behind nginx, one PostgreSQL", baseline_rate),
        row("o-outage", "(o) PostgreSQL stopped: every event to the spool", baseline_rate),
    ) if r]
    out = []
    out.append(f"Machine: {machine.get('cores')} cores ({machine.get('cpu')}), {machine.get('swift')}, PostgreSQL "
               f"{machine.get('postgres')} and nginx {machine.get('nginx')} on the same machine; load average "
               f"{machine.get('load_start')} at the start, {machine.get('load_end')} at the end; HEAD {machine.get('head')}; "
               f"wrk -t{machine.get('threads')} -c{machine.get('connections')} -d{machine.get('duration_s')}s.")
    out.append("")
    out.append("| run | requests/s | × baseline | p50 ms | p99 ms | max ms | CPU (cores) | peak RSS MiB | rows/s | rows = redirects |")
    out.append("|---|---:|---:|---:|---:|---:|---|---|---:|---|")
    for r in rows:
        stored = r["stored"]
        errors = f" ({r['errors']} wrk errors)" if r["errors"] else ""
        rows_per_s = "" if r["rows_per_s"] is None else format(r["rows_per_s"], ",.0f")
        check = "" if stored is None else (f"{stored['rows']} = {stored['redirects']}" if stored["rows"] == stored["redirects"]
                                           else f"**{stored['rows']} ≠ {stored['redirects']}**")
        out.append(f"| {r['label']} | {r['rate']:,.0f} | {r['ratio']:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                   f"{r['max_ms']:.1f} | {' + '.join(f'{c:.2f}' for c in r['cpu'])} | "
                   f"{' + '.join(f'{h:.0f}' for h in r['hwm_mb'])} | "
                   f"{rows_per_s} | "
                   f"{check}{errors} |")
    drain = load("o-outage.drain.json")
    if drain:
        rate = drain["spooled_events"] / drain["drain_seconds"] if drain["drain_seconds"] else 0
        out.append("")
        out.append(f"Spool drain after the outage: {drain['spooled_events']:,} spooled events ({drain['spool_bytes']:,.0f} "
                   f"bytes) in PostgreSQL {drain['drain_seconds']} s after it was started again "
                   f"({rate:,.0f} rows/s, PostgreSQL's restart and the writer's reconnection backoff included); "
                   f"{drain['rows']} rows for {drain['redirects']} redirects.")
    split = load("n2-two-behind-nginx.split.json")
    if split:
        out.append(f"Two servers: nginx sent {split['server_a']:,} and {split['server_b']:,} redirects to each (warm-up included).")
    md = "\n".join(out) + "\n"
    open(os.path.join(RESULTS, "summary.md"), "w").write(md)
    print(md)


if __name__ == "__main__":
    main()
