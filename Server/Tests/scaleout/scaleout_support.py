"""Helpers and fixtures for the scale-out tests (issue 19): several real ``linktrack-server`` processes behind a real nginx,
writing to one real PostgreSQL (or a webhook receiver), driven over HTTP.

Binaries: ``$LINKTRACK_SERVER_BIN`` and ``$LINKTRACK_BIN`` (default ``Server/.build/debug/linktrack-server`` and
``Server/.build/debug/linktrack`` relative to this file).

PostgreSQL: ``$LINKTRACK_TEST_POSTGRES_URL`` (a superuser: each test makes and drops its own database). The outage
tests must stop and start the server: they use ``$LINKTRACK_TEST_POSTGRES_DIR`` (the directory given to
``Server/Tests/integration/pg-cluster.sh start`` for that URL) when set, and otherwise start a throwaway cluster of
their own with pg-cluster.sh. Without the URL every test uses a throwaway cluster. Without PostgreSQL installed
(``/usr/lib/postgresql/*/bin/initdb``) and no URL, the PostgreSQL tests are skipped with a message.

This is not a conftest.py on purpose: Tests/run.sh runs the integration, deploy and scale-out suites in one pytest
session, and Server/Tests/integration's tests import their helpers with ``from conftest import ...``, which a second
module named conftest would shadow. test_scaleout.py imports the fixtures from here.

nginx: Debian's ``nginx`` (``apt-get install nginx-light``), run as a child process with its configuration, pid
file, logs and temporary files in the test's directory (``-p DIR -c FILE``, ``daemon off``).
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SERVER_PACKAGE = HERE.parent.parent  # Server/
BUILD = SERVER_PACKAGE / ".build" / "debug"
SERVER_BIN = Path(os.environ.get("LINKTRACK_SERVER_BIN", str(BUILD / "linktrack-server")))
FILTER_BIN = Path(os.environ.get("LINKTRACK_BIN", str(BUILD / "linktrack")))
PG_CLUSTER = HERE.parent / "integration" / "pg-cluster.sh"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

DOMAIN = "links.example.com"
BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")


@pytest.fixture(scope="session", autouse=True)
def _binaries_exist():
    for binary in (SERVER_BIN, FILTER_BIN):
        if not binary.is_file():
            pytest.exit(f"{binary} is missing: build it (cd Server && swift build && swift build --product linktrack) "
                        f"or set LINKTRACK_SERVER_BIN / LINKTRACK_BIN", returncode=2)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not candidates:
        pytest.skip("psql is not installed (apt-get install postgresql)")
    return candidates[-1]


def psql(url: str, sql: str, timeout: float = 60) -> list[list[str]]:
    """Runs `sql`; returns the rows (fields split on the unit separator)."""
    p = subprocess.run([psql_binary(), "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"psql failed ({p.returncode}): {p.stderr.decode(errors='replace')}\n{sql}")
    out = p.stdout.decode()
    return [line.split("\x1f") for line in out.splitlines() if line != ""]


def with_database(url: str, name: str) -> str:
    m = re.match(r"^(postgres(?:ql)?://[^/?]+)(/[^?]*)?(\?.*)?$", url)
    assert m, url
    return m.group(1) + "/" + name + (m.group(3) or "")


class PgCluster:
    """A PostgreSQL server the tests can reach (`url`) and, when `directory` is known, stop and start."""

    def __init__(self, url: str, directory: Path | None, owned: bool):
        self.url = url
        self.directory = directory
        self.owned = owned

    @classmethod
    def start(cls) -> "PgCluster":
        directory = Path(tempfile.mkdtemp(prefix="linktrack-scaleout-pg."))
        p = subprocess.run(["sh", str(PG_CLUSTER), "start", str(directory)], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"pg-cluster.sh start failed: {p.stderr.decode(errors='replace')}")
        return cls(p.stdout.decode().strip(), directory, owned=True)

    @property
    def controllable(self) -> bool:
        return self.directory is not None

    def pause(self):
        subprocess.run(["sh", str(PG_CLUSTER), "pause", str(self.directory)], check=True, capture_output=True, timeout=60)

    def resume(self):
        subprocess.run(["sh", str(PG_CLUSTER), "resume", str(self.directory)], check=True, capture_output=True, timeout=60)

    def stop(self):
        if self.owned:
            subprocess.run(["sh", str(PG_CLUSTER), "stop", str(self.directory)], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def pg_cluster():
    """The PostgreSQL server for the counting tests: $LINKTRACK_TEST_POSTGRES_URL, else a throwaway cluster."""
    url = os.environ.get("LINKTRACK_TEST_POSTGRES_URL")
    if url:
        directory = os.environ.get("LINKTRACK_TEST_POSTGRES_DIR")
        yield PgCluster(url, Path(directory) if directory else None, owned=False)
        return
    if not postgres_installed():
        pytest.skip("no PostgreSQL: set LINKTRACK_TEST_POSTGRES_URL or apt-get install postgresql")
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def controllable_pg(pg_cluster):
    """A PostgreSQL server the outage tests may stop and start: the session's when its directory is known
    ($LINKTRACK_TEST_POSTGRES_DIR, or our own cluster), else a throwaway cluster of their own."""
    if pg_cluster.controllable:
        yield pg_cluster
        return
    if not postgres_installed():
        pytest.skip("the outage tests stop PostgreSQL: set LINKTRACK_TEST_POSTGRES_DIR with the URL, or install "
                    "PostgreSQL so that they start their own cluster")
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


@dataclass
class Database:
    cluster: PgCluster
    name: str
    url: str

    def rows(self, sql: str) -> list[list[str]]:
        return psql(self.url, sql)

    def count(self) -> int:
        if not self.rows("SELECT to_regclass('linktrack_events') IS NOT NULL")[0][0] == "t":
            return 0
        return int(self.rows("SELECT count(*) FROM linktrack_events")[0][0])

    def occurrences(self) -> dict[tuple[str, str, str], int]:
        """How many rows each (event type, message id, link index) has."""
        out: dict[tuple[str, str, str], int] = {}
        if self.count() == 0:
            return out
        for kind, message, index, n in self.rows(
                "SELECT event_type, message_id, coalesce(link_index::text, ''), count(*) FROM linktrack_events "
                "GROUP BY 1, 2, 3"):
            out[(kind, message, index)] = int(n)
        return out


def make_database(cluster: PgCluster) -> Database:
    name = "lt_" + uuid.uuid4().hex[:16]
    psql(cluster.url, f"CREATE DATABASE {name}")
    return Database(cluster, name, with_database(cluster.url, name))


def drop_database(db: Database):
    try:
        psql(db.cluster.url, f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")
    except AssertionError:
        pass


@pytest.fixture
def database(pg_cluster):
    db = make_database(pg_cluster)
    yield db
    drop_database(db)


@pytest.fixture
def outage_database(controllable_pg):
    db = make_database(controllable_pg)
    yield db
    # A test that failed half-way may leave the server stopped.
    try:
        psql(controllable_pg.url, "SELECT 1", timeout=5)
    except Exception:
        controllable_pg.resume()
    drop_database(db)


# ---------------------------------------------------------------------------------------------------------------
# Configuration and links


def keygen() -> dict:
    return json.loads(subprocess.run([str(FILTER_BIN), "keygen"], check=True, capture_output=True).stdout)


def write_config(path: Path, destination: dict, key: dict) -> Path:
    doc = {
        "ConfigurationSets": [{
            "ConfigurationSetName": "marketing",
            "TrackingOptions": {"CustomRedirectDomain": DOMAIN},
            "EventDestinations": [{"Name": "store", "Enabled": True, "MatchingEventTypes": ["OPEN", "CLICK"],
                                   "LinkTrackDestination": destination}],
        }],
        "DefaultConfigurationSet": "marketing",
        "SigningKeys": [key],
        "TrustedProxies": ["127.0.0.1"],
    }
    path.write_text(json.dumps(doc, indent=1))
    return path


@dataclass(frozen=True)
class Hit:
    """One request of a load: a click (link index) or an open of one message; `target` is its path and query."""
    kind: str  # "Click" or "Open"
    message_id: str
    link_index: str  # "" for opens
    target: str


def make_hits(config: Path, messages: int, links: int, prefix: str = "m") -> list[Hit]:
    """`messages` messages through `linktrack filter`, each with `links` links and the open pixel: one Hit per
    link and one per message, every one distinct (so that each must appear exactly once in the store)."""
    hits: list[Hit] = []
    for m in range(messages):
        message_id = f"{prefix}-{m}-{uuid.uuid4().hex[:8]}@example.com"
        page = "<html><body>" + "".join(
            f'<p><a href="https://example.org/landing/{m}/{i}?q={i}&amp;r=x">link {i}</a></p>' for i in range(links)
        ) + "</body></html>"
        out = subprocess.run([str(FILTER_BIN), "filter", "--config", str(config), "--input", "html",
                              "--message-id", message_id], input=page.encode(), check=True, capture_output=True).stdout.decode()
        clicks = [html.unescape(u) for u in re.findall(r'<a\b[^>]*?\shref="([^"]*)"', out)]
        opens = [html.unescape(u) for u in re.findall(r'<img\b[^>]*?\ssrc="([^"]*)"', out)]
        assert len(clicks) == links and len(opens) == 1, out
        for i, url in enumerate(clicks):
            target = re.match(r"https?://[^/]+(/.*)$", url).group(1)
            hits.append(Hit("Click", message_id, str(i), target))
        hits.append(Hit("Open", message_id, "", re.match(r"https?://[^/]+(/.*)$", opens[0]).group(1)))
    return hits


# ---------------------------------------------------------------------------------------------------------------
# The server


class Server:
    START_LINE = re.compile(r"linktrack-server listening public=([0-9.]+):(\d+) admin=([0-9.]+):(\d+)")

    def __init__(self, config: Path, data: Path, extra: list[str] = ()):
        self.config = config
        self.data = data
        self.extra = list(extra)
        self.proc = None
        self.lines: list[str] = []
        self.lock = threading.Condition()
        self.start()

    def start(self, listen: str = "127.0.0.1:0"):
        args = [str(SERVER_BIN), "serve", "--config", str(self.config), "--data-directory", str(self.data),
                "--listen", listen, "--admin-listen", "127.0.0.1:0", *self.extra]
        env = dict(os.environ)
        env.pop("LINKTRACK_CONFIG", None)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.port = self.admin_port = None
        start_index = len(self.lines)
        self.readers = [threading.Thread(target=self._pump, args=(s,), daemon=True) for s in (self.proc.stderr, self.proc.stdout)]
        for t in self.readers:
            t.start()
        deadline = time.monotonic() + 60
        with self.lock:
            while self.port is None:
                if self.proc.poll() is not None:
                    raise AssertionError(f"server exited ({self.proc.returncode}):\n" + "\n".join(self.lines[start_index:]))
                if time.monotonic() > deadline:
                    raise AssertionError("server did not start:\n" + "\n".join(self.lines[start_index:]))
                self.lock.wait(0.2)

    def _pump(self, stream):
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
                m = self.START_LINE.search(line)
                if m:
                    self.port = int(m.group(2))
                    self.admin_port = int(m.group(4))
                self.lock.notify_all()

    @property
    def log(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def admin(self, path: str) -> tuple[int, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def metric(self, name: str, **labels) -> float:
        _, text = self.admin("/metrics")
        return metric_value(text, name, **labels)

    def spool_bytes(self) -> float:
        return self.metric("linktrack_spool_bytes")

    def ready_text(self) -> str:
        return self.admin("/ready")[1]

    def spool_events(self) -> int:
        return sum(int(n) for n in re.findall(r"spool_events=(\d+)", self.ready_text()))

    def spool_files(self) -> list[Path]:
        return sorted((self.data / "spool").glob("*.log"))

    def get(self, target: str) -> http.client.HTTPResponse:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", target, headers={"Host": DOMAIN, "User-Agent": BROWSER_UA})
        r = c.getresponse()
        r.read()
        c.close()
        return r

    def stop(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self.readers:
            t.join(5)
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for t in self.readers:
            t.join(5)

    def restart(self):
        """Starts the process again on the same redirect port (the balancer's upstream), same data directory."""
        port = self.port
        deadline = time.monotonic() + 10
        while True:
            try:
                self.start(listen=f"127.0.0.1:{port}")
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def metric_value(metrics: str, name: str, **labels) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


@pytest.fixture
def servers():
    """Starts linktrack-server processes; stops every one still running at the end of the test."""
    started: list[Server] = []

    def start(config: Path, data: Path, extra: list[str] = ()) -> Server:
        s = Server(config, data, extra)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop(timeout=30)


# ---------------------------------------------------------------------------------------------------------------
# The balancer


NGINX_TEMPLATE = """
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
worker_processes 2;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    upstream linktrack_redirects {{
{servers}
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        server_name {domain};
        location / {{
            limit_except GET HEAD {{ deny all; }}
            proxy_pass http://linktrack_redirects;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_redirect off;
            proxy_buffering off;
            # A GET that reached a server which then died may be recorded by it; resending it to the
            # other server would record it twice. The tests count exactly, so no retry.
            proxy_next_upstream {next_upstream};
        }}
    }}
}}
"""


class Balancer:
    def __init__(self, directory: Path, upstream_ports: list[int], next_upstream: str = "off"):
        if not os.path.exists(NGINX):
            pytest.skip("nginx is not installed (apt-get install nginx-light)")
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)
        self.directory = directory
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
        (directory / "nginx.conf").write_text(NGINX_TEMPLATE.format(dir=directory, servers=servers, port=self.port,
                                                                     domain=DOMAIN, next_upstream=next_upstream))
        self.proc = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_until(up, timeout=10, message="nginx listening")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def balancer(tmp_path):
    made: list[Balancer] = []

    def start(upstream_ports: list[int], next_upstream: str = "off") -> Balancer:
        b = Balancer(tmp_path / f"nginx{len(made)}", upstream_ports, next_upstream)
        made.append(b)
        return b

    yield start
    for b in made:
        b.stop()


# ---------------------------------------------------------------------------------------------------------------
# Load


@dataclass
class Outcome:
    hit: Hit
    status: int | None = None  # None: no complete response (refused, reset, killed)
    latency: float = 0.0
    finished_at: float = 0.0


class Load:
    """Sends `hits` to 127.0.0.1:`port` from `threads` keep-alive connections, each hit once, in order of the list
    (spread over the threads). A hit is acknowledged when its complete response (302 or 200) arrived."""

    def __init__(self, port: int, hits: list[Hit], threads: int = 8, pace: float = 0.0):
        self.port = port
        self.hits = hits
        self.threads = threads
        self.pace = pace
        self.outcomes: list[Outcome] = [Outcome(h) for h in hits]
        self.next = 0
        self.done = 0
        self.lock = threading.Lock()
        self.workers: list[threading.Thread] = []

    def start(self) -> "Load":
        for _ in range(self.threads):
            t = threading.Thread(target=self._work, daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def _take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.hits):
                return None
            i = self.next
            self.next += 1
            return i

    def _work(self):
        conn = None
        while True:
            i = self._take()
            if i is None:
                break
            hit = self.hits[i]
            outcome = self.outcomes[i]
            started = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", hit.target, headers={"Host": DOMAIN, "User-Agent": BROWSER_UA})
                r = conn.getresponse()
                r.read()
                outcome.status = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            outcome.latency = time.monotonic() - started
            outcome.finished_at = time.monotonic()
            with self.lock:
                self.done += 1
            if self.pace:
                time.sleep(self.pace)
        if conn is not None:
            conn.close()

    def wait_done(self, fraction: float, timeout: float = 300):
        target = int(len(self.hits) * fraction)
        wait_until(lambda: self.done >= target, timeout=timeout, interval=0.01, message=f"{target} requests answered")

    def join(self, timeout: float = 600):
        for t in self.workers:
            t.join(timeout)

    def acknowledged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in (200, 302)]

    def percentile(self, p: float, outcomes: list[Outcome] | None = None) -> float:
        values = sorted(o.latency for o in (outcomes if outcomes is not None else self.acknowledged()))
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(len(values) * p))]


def expected_key(hit: Hit) -> tuple[str, str, str]:
    return (hit.kind, hit.message_id, hit.link_index)


# ---------------------------------------------------------------------------------------------------------------
# A webhook receiver


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    timestamp: str
    signature: str
    body: bytes


class WebhookReceiver:
    """An HTTP receiver on 127.0.0.1 that verifies every batch (HMAC-SHA256 of "<timestamp>.<body>" with its
    secret; a timestamp within 5 minutes) with Python's hmac, answers 503 while `unavailable`, and records what it
    accepted."""

    def __init__(self, secret: bytes):
        self.secret = secret
        self.unavailable = True
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.events: list[dict] = []
        self.refused = 0
        self.answered_503 = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = receiver.handle(self.headers.get("X-LinkTrack-Timestamp", ""),
                                         self.headers.get("X-LinkTrack-Signature", ""), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, timestamp: str, signature: str, body: bytes) -> bool:
        try:
            fresh = abs(time.time() - int(timestamp)) <= 300
        except ValueError:
            return False
        return fresh and hmac.compare_digest(webhook_signature(self.secret, timestamp, body), signature)

    def handle(self, timestamp: str, signature: str, body: bytes) -> int:
        if not self.verify(timestamp, signature, body):
            with self.lock:
                self.refused += 1
            return 401
        with self.lock:
            if self.unavailable:
                self.answered_503 += 1
                return 503
        doc = json.loads(body)
        with self.lock:
            self.deliveries.append(Delivery(timestamp, signature, body))
            self.events.extend(doc["Events"])
        return 204

    def event_ids(self) -> list[str]:
        with self.lock:
            return [e["linkTrack"]["eventId"] for e in self.events]

    def occurrences(self) -> dict[tuple[str, str, str], set[str]]:
        """The distinct event ids received for each (event type, message id, link index)."""
        out: dict[tuple[str, str, str], set[str]] = {}
        with self.lock:
            for e in self.events:
                index = str(e["linkTrack"].get("linkIndex", "")) if e["eventType"] == "Click" else ""
                out.setdefault((e["eventType"], e["mail"]["messageId"], index), set()).add(e["linkTrack"]["eventId"])
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    made: list[WebhookReceiver] = []

    def start(secret: bytes) -> WebhookReceiver:
        r = WebhookReceiver(secret)
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()
