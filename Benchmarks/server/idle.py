#!/usr/bin/env python3
"""Idle connections against linktrack-server (Benchmarks/server/run.sh, step e).

Opens N TCP connections to the public listener (at most 256 connects in flight, so the listen backlog
never overflows), sends nothing on them, waits until the server holds them all (its open sockets in
/proc/PID/fd), holds them HOLD seconds, and reads the server's VmRSS before, while held, and after
they are closed. While they are held it also times a normal client's click (a new connection, one
GET): the idle connections must not stop it. Raises its own RLIMIT_NOFILE to the hard limit.

usage: idle.py PID PORT PATHS_FILE N HOLD_SECONDS OUT.json
"""
import asyncio
import http.client
import json
import os
import resource
import sys
import time

HOST = "links.example.com"


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    raise KeyError(key)


def sockets(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def click(port, path):
    started = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers={"Host": HOST, "User-Agent": "Mozilla/5.0 (bench idle check)"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, (time.perf_counter() - started) * 1000


async def main():
    pid, port, paths_file, n, hold, out = sys.argv[1:7]
    pid, port, n, hold = int(pid), int(port), int(n), float(hold)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 100:
        sys.exit(f"idle.py: RLIMIT_NOFILE hard limit {hard} is below {n} connections")
    paths = [p for p in open(paths_file).read().split("\n") if p]

    # A few clicks first, so that the 'before' figure is of a server that has answered requests.
    for p in paths[:50]:
        s, _ = click(port, p)
        assert s == 302, s
    time.sleep(0.5)
    result = {"connections": n, "hold_seconds": hold,
              "rss_before_kb": status(pid, "VmRSS"), "sockets_before": sockets(pid)}

    gate = asyncio.Semaphore(256)
    writers = []
    failures = []

    async def one():
        async with gate:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                writers.append((r, w))
            except OSError as e:
                failures.append(str(e))

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    result["connect_seconds"] = round(time.perf_counter() - started, 2)
    result["connect_failures"] = len(failures)
    if failures:
        result["first_failure"] = failures[0]
    # Wait until the server has accepted them all (they may still sit in the listen backlog).
    deadline = time.time() + 30
    while sockets(pid) < result["sockets_before"] + len(writers) and time.time() < deadline:
        await asyncio.sleep(0.2)
    result["sockets_accepted"] = sockets(pid) - result["sockets_before"]
    await asyncio.sleep(hold)
    result["rss_held_kb"] = status(pid, "VmRSS")
    result["sockets_held"] = sockets(pid) - result["sockets_before"]
    codes, times = [], []
    for p in paths[100:120]:
        s, ms = await asyncio.to_thread(click, port, p)
        codes.append(s)
        times.append(ms)
    result["click_during_hold_statuses"] = sorted(set(codes))
    result["click_during_hold_ms_median"] = round(sorted(times)[len(times) // 2], 2)
    result["click_during_hold_ms_max"] = round(max(times), 2)
    # A connection the server closed has reached end of file on our side.
    result["still_open_after_hold"] = sum(1 for r, w in writers if not r.at_eof() and not w.is_closing())
    for _, w in writers:
        w.close()
    await asyncio.sleep(3)
    result["rss_after_close_kb"] = status(pid, "VmRSS")
    result["hwm_kb"] = status(pid, "VmHWM")
    result["sockets_after_close"] = sockets(pid)
    result["rss_per_connection_bytes"] = round((result["rss_held_kb"] - result["rss_before_kb"]) * 1024 / max(1, result["sockets_held"]))
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
