#!/usr/bin/env python3
"""Small helpers of Benchmarks/server/run.sh (standard library only).

  tool.py free-port                         a free TCP port on 127.0.0.1
  tool.py wait-port PORT SECONDS            until 127.0.0.1:PORT accepts a connection
  tool.py wait-line FILE TEXT SECONDS PID   until FILE holds a line with TEXT (prints the line)
  tool.py proc PID                          JSON: cpu_seconds, vm_hwm_kb, vm_rss_kb, threads, and
                                            machine_busy_seconds (all CPUs, from /proc/stat)
  tool.py metrics URL [RAW_FILE]            JSON of the linktrack_* counters on /metrics (and the
                                            sink write histogram); RAW_FILE keeps the text
  tool.py count-lines FILE                  lines in FILE
  tool.py count-rows SQLITE_FILE            rows of table events
  tool.py wrk-json WRK_OUTPUT               the LTJSON line of clicks.lua's done()
  tool.py record OUT.json KEY=JSON...       writes a JSON object from KEY=JSON pairs (a value that
                                            is not JSON is kept as a string; @FILE reads a JSON file)
"""
import json
import os
import re
import socket
import sqlite3
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    print(port)


def wait_port(port, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"tool.py: nothing listens on 127.0.0.1:{port} after {seconds} s")


def wait_line(path, text, seconds, pid):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        try:
            for line in open(path, errors="replace"):
                if text in line:
                    print(line.strip())
                    return
        except FileNotFoundError:
            pass
        if not os.path.exists(f"/proc/{pid}"):
            sys.exit(f"tool.py: process {pid} exited before logging '{text}' (see {path})")
        time.sleep(0.1)
    sys.exit(f"tool.py: no '{text}' in {path} after {seconds} s")


def proc(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"cpu_seconds": (int(fields[11]) + int(fields[12])) / ticks}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[{"VmHWM": "vm_hwm_kb", "VmRSS": "vm_rss_kb", "Threads": "threads"}[key]] = int(value.split()[0])
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    out["machine_busy_seconds"] = (sum(cpu[:8]) - cpu[3] - cpu[4]) / ticks
    print(json.dumps(out))


def metrics(url, raw=None):
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    if raw:
        with open(raw, "w") as f:
            f.write(text)
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(linktrack_[a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$', line)
        if not m or m.group(1).endswith("_bucket"):
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if name == "linktrack_requests_total":
            outcome = re.search(r'outcome="([^"]*)"', labels).group(1)
            name = f"requests_{outcome}"
        elif name.startswith("linktrack_"):
            name = name[len("linktrack_"):]
        out[name] = out.get(name, 0) + value
    # The sink write histogram (seconds): writes (batches) at or under each bound.
    buckets = {}
    for m in re.finditer(r'^linktrack_sink_write_seconds_bucket\{[^}]*le="([^"]+)"\}\s+([0-9.eE+-]+)$', text, re.M):
        buckets[m.group(1)] = buckets.get(m.group(1), 0) + int(float(m.group(2)))
    if buckets:
        out["sink_write_buckets"] = buckets
    print(json.dumps({k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in sorted(out.items())}))


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    print(n)


def count_rows(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    print(c.execute("SELECT count(*) FROM events").fetchone()[0])
    c.close()


def wrk_json(path):
    for line in open(path):
        if line.startswith("LTJSON "):
            print(line[len("LTJSON "):].strip())
            return
    sys.exit(f"tool.py: no LTJSON line in {path}")


def record(out, pairs):
    obj = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if value.startswith("@"):
            with open(value[1:]) as f:
                obj[key] = json.load(f)
            continue
        try:
            obj[key] = json.loads(value)
        except ValueError:
            obj[key] = value
    with open(out, "w") as f:
        json.dump(obj, f, indent=1)


if __name__ == "__main__":
    commands = {"free-port": free_port, "wait-port": wait_port, "wait-line": wait_line, "proc": proc,
                "metrics": metrics, "count-lines": count_lines, "count-rows": count_rows, "wrk-json": wrk_json}
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "record":
        record(args[0], args[1:])
    elif cmd in commands:
        commands[cmd](*args)
    else:
        sys.exit(__doc__)
