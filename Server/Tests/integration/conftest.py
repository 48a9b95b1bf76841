"""Fixtures for the linktrack-server integration tests (issue 17, "Tests (real HTTP, no mocks of the server)").

Everything here drives the real binaries:
- ``linktrack`` (the filter) signs links: ``keygen``, ``filter --input html`` and ``filter`` on a MIME message;
- ``linktrack-server serve`` is started on ephemeral ports (``--listen 127.0.0.1:0``); its ports are read from
  the one start line it logs on stderr;
- requests go over raw sockets (``RawHTTP``), so a test controls the Host header, the method, the exact bytes
  and the source address, and redirects are never followed.

Binaries: ``$LINKTRACK_SERVER_BIN`` and ``$LINKTRACK_BIN``, by default ``Server/.build/debug/linktrack-server``
and ``Server/.build/debug/linktrack`` relative to this file (build them with ``swift build`` and
``swift build --product linktrack`` in Server/).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pytest

HERE = Path(__file__).resolve().parent
SERVER_PACKAGE = HERE.parent.parent  # Server/
BUILD = SERVER_PACKAGE / ".build" / "debug"
SERVER_BIN = Path(os.environ.get("LINKTRACK_SERVER_BIN", str(BUILD / "linktrack-server")))
FILTER_BIN = Path(os.environ.get("LINKTRACK_BIN", str(BUILD / "linktrack")))

DOMAIN = "links.example.com"
OTHER_DOMAIN = "go.example.org"

# The 43-byte transparent GIF the server answers for every open (PublicResponder.gifBytes).
GIF = bytes([
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
])

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")



@pytest.fixture(scope="session", autouse=True)
def _binaries_exist():
    for binary in (SERVER_BIN, FILTER_BIN):
        if not binary.is_file():
            pytest.exit(f"{binary} is missing: build it (cd Server && swift build && swift build --product linktrack) "
                        f"or set LINKTRACK_SERVER_BIN / LINKTRACK_BIN", returncode=2)


# ---------------------------------------------------------------------------------------------------------------
# Raw HTTP/1.1


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, bytes]]  # names lower-cased, values as raw bytes
    body: bytes
    head_bytes: bytes = b""

    def header(self, name: str) -> bytes | None:
        name = name.lower()
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def header_str(self, name: str) -> str | None:
        v = self.header(name)
        return None if v is None else v.decode("latin-1")

    def header_names(self) -> list[str]:
        return [n for n, _ in self.headers]


class ConnectionClosed(Exception):
    pass


class RawHTTP:
    """One HTTP/1.1 connection over a plain socket. Sends exactly the bytes given; never follows redirects."""

    def __init__(self, port: int, host: str = "127.0.0.1", source: str | None = None, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_response(self, head_request: bool = False) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionClosed(f"connection closed before a full response head ({self.buffer[:200]!r})")
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.decode("latin-1").strip().lower(), value.strip(b" \t")))
        resp = Response(int(m.group(1)), (m.group(2) or b"").decode("latin-1"), headers, b"", head + b"\r\n\r\n")
        status = resp.status
        if head_request or status in (204, 304) or 100 <= status < 200:
            return resp
        length = resp.header("content-length")
        if length is not None:
            n = int(length)
            while len(self.buffer) < n:
                if not self._fill():
                    raise ConnectionClosed("connection closed inside a body")
            resp.body, self.buffer = self.buffer[:n], self.buffer[n:]
        elif (resp.header("transfer-encoding") or b"").lower() == b"chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buffer:
                    if not self._fill():
                        raise ConnectionClosed("connection closed inside a chunk")
                size_line, _, self.buffer = self.buffer.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    if not self._fill():
                        raise ConnectionClosed("connection closed inside a chunk")
                body += self.buffer[:size]
                self.buffer = self.buffer[size + 2:]
                if size == 0:
                    break
            resp.body = body
        else:
            while self._fill():
                pass
            resp.body, self.buffer = self.buffer, b""
        return resp

    def read_to_eof(self) -> bytes:
        while self._fill():
            pass
        out, self.buffer = self.buffer, b""
        return out

    def request(self, method: str, target: str | bytes, host: str | None = DOMAIN,
                headers: Iterable[tuple[str, str | bytes]] = (), body: bytes | None = None) -> Response:
        self.send(build_request(method, target, host, headers, body))
        return self.read_response(head_request=(method == "HEAD"))


def build_request(method: str, target: str | bytes, host: str | None = DOMAIN,
                  headers: Iterable[tuple[str, str | bytes]] = (), body: bytes | None = None) -> bytes:
    if isinstance(target, str):
        target = target.encode("utf-8")
    out = method.encode() + b" " + target + b" HTTP/1.1\r\n"
    if host is not None:
        out += b"Host: " + host.encode("utf-8") + b"\r\n"
    for name, value in headers:
        if isinstance(value, str):
            value = value.encode("utf-8")
        out += name.encode() + b": " + value + b"\r\n"
    if body is not None:
        out += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    out += b"\r\n"
    if body is not None:
        out += body
    return out


def http(port: int, method: str, target: str | bytes, host: str | None = DOMAIN,
         headers: Iterable[tuple[str, str | bytes]] = (), body: bytes | None = None,
         source: str | None = None, timeout: float = 10.0) -> Response:
    """One request on a fresh connection."""
    with RawHTTP(port, source=source, timeout=timeout) as c:
        return c.request(method, target, host, headers, body)


def target_of(url: str) -> str:
    """The request target (path and query) of an absolute tracking URL."""
    m = re.match(r"https?://[^/]+(/.*)$", url)
    assert m, url
    return m.group(1)


def host_of(url: str) -> str:
    m = re.match(r"https?://([^/]+)/", url)
    assert m, url
    return m.group(1)


# ---------------------------------------------------------------------------------------------------------------
# The filter


def run(args: list[str], stdin: bytes | None = None, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def keygen() -> dict:
    return json.loads(run([str(FILTER_BIN), "keygen"]).stdout)


def filter_html(config: Path, document: bytes, message_id: str, configuration_set: str | None = None) -> bytes:
    args = [str(FILTER_BIN), "filter", "--config", str(config), "--input", "html", "--message-id", message_id]
    if configuration_set:
        args += ["--configuration-set", configuration_set]
    return run(args, stdin=document).stdout


def filter_message(config: Path, message: bytes) -> bytes:
    return run([str(FILTER_BIN), "filter", "--config", str(config)], stdin=message).stdout


def anchor_hrefs(document: bytes) -> list[str]:
    """The href of every <a> (HTML-unescaped, decoded as UTF-8), in document order."""
    text = document.decode("utf-8")
    return [html.unescape(m.group(1)) for m in re.finditer(r'<a\b[^>]*?\shref="([^"]*)"', text)]


def click_urls(document: bytes, domain: str = DOMAIN) -> list[str]:
    return [h for h in anchor_hrefs(document) if re.match(rf"https?://{re.escape(domain)}/c/", h)]


def open_urls(document: bytes, domain: str = DOMAIN) -> list[str]:
    text = document.decode("utf-8")
    return [html.unescape(m.group(1)) for m in re.finditer(r'<img\b[^>]*?\ssrc="([^"]*)"', text)
            if re.match(rf"https?://{re.escape(domain)}/o/", html.unescape(m.group(1)))]


def links_document(destinations: list[str], tags: list[str | None] | None = None, utf8_bom: bool = True) -> bytes:
    """An HTML document with one anchor per destination (hrefs HTML-escaped), optionally ses:tags per anchor.
    A UTF-8 byte order mark tells `--input html` that the document is UTF-8 (IDN hosts in UTF-8 are tracked
    only in a document known to be UTF-8)."""
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body>\n"]
    for i, d in enumerate(destinations):
        tag_attr = ""
        if tags and tags[i]:
            tag_attr = f' ses:tags="{html.escape(tags[i], quote=True)}"'
        parts.append(f'<p><a href="{html.escape(d, quote=True)}"{tag_attr}>link {i}</a></p>\n')
    parts.append("</body></html>\n")
    body = "".join(parts).encode("utf-8")
    return (b"\xef\xbb\xbf" + body) if utf8_bom else body


# ---------------------------------------------------------------------------------------------------------------
# An independent signer, from the URL format LinkSigner documents (version 1):
#   click: /c/1.<keyId>.<mac>?m=<messageId>&s=<set>&i=<linkIndex>[&t=<linkTags>][&g=<messageTags>]&u=<destination>
#   open:  /o/1.<keyId>.<mac>?m=<messageId>&s=<set>[&g=<messageTags>]
#   mac = base64url(HMAC-SHA256(secret, "LT1\0<c|o>\0<keyId>\0<query>")[:12]), unpadded
# It lets a test sign what the filter never would (a destination with a raw CR LF, say).

_LITERAL = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$*,;:@/?=")


def percent_encode(value: str | bytes) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return "".join(chr(b) if b in _LITERAL else "%%%02X" % b for b in data)


def sign_query(key: dict, kind: str, query: str) -> str:
    import base64
    import hashlib
    import hmac
    secret = base64.b64decode(key["Secret"])
    message = b"LT1\0" + kind.encode() + b"\0" + key["KeyId"].encode() + b"\0" + query.encode("latin-1")
    mac = hmac.new(secret, message, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signed_click_target(key: dict, message_id: str, configuration_set: str, link_index: int,
                        destination: str | bytes, link_tags: str | None = None, message_tags: str | None = None) -> str:
    query = f"m={percent_encode(message_id)}&s={percent_encode(configuration_set)}&i={link_index}"
    if link_tags is not None:
        query += "&t=" + percent_encode(link_tags)
    if message_tags is not None:
        query += "&g=" + percent_encode(message_tags)
    query += "&u=" + percent_encode(destination)
    return f"/c/1.{key['KeyId']}.{sign_query(key, 'c', query)}?{query}"


def signed_open_target(key: dict, message_id: str, configuration_set: str, message_tags: str | None = None) -> str:
    query = f"m={percent_encode(message_id)}&s={percent_encode(configuration_set)}"
    if message_tags is not None:
        query += "&g=" + percent_encode(message_tags)
    return f"/o/1.{key['KeyId']}.{sign_query(key, 'o', query)}?{query}"


# ---------------------------------------------------------------------------------------------------------------
# Configuration


def event_destinations(jsonl: Path | None, sqlite: bool = True, jsonl_types=("OPEN", "CLICK"),
                       sqlite_types=("OPEN", "CLICK")) -> list[dict]:
    out = []
    if sqlite:
        out.append({"Name": "store", "Enabled": True, "MatchingEventTypes": list(sqlite_types)})
    if jsonl is not None:
        out.append({"Name": "lines", "Enabled": True, "MatchingEventTypes": list(jsonl_types),
                    "LinkTrackDestination": {"Type": "JSONLines", "Path": str(jsonl)}})
    return out


def config_set(name: str, domain: str, destinations: list[dict], https: str = "REQUIRE") -> dict:
    return {"ConfigurationSetName": name,
            "TrackingOptions": {"CustomRedirectDomain": domain, "HttpsPolicy": https},
            "EventDestinations": destinations}


def config_document(sets: list[dict], keys: list[dict], default: str | None = None,
                    trusted: list[str] = ("127.0.0.2",)) -> dict:
    doc = {"ConfigurationSets": sets, "SigningKeys": keys, "TrustedProxies": list(trusted)}
    doc["DefaultConfigurationSet"] = default or sets[0]["ConfigurationSetName"]
    return doc


def write_json(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
    return path


def replace_atomically(path: Path, content: str | bytes):
    """Write a temporary file beside `path`, then rename it over `path` (as `put` and the control API do)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    os.replace(tmp, path)


@dataclass
class Env:
    """A test's directory: a configuration file, a data directory and a JSON Lines file."""
    root: Path
    config: Path
    data: Path
    jsonl: Path
    keys: list[dict]
    doc: dict

    def write(self, doc: dict | None = None):
        if doc is not None:
            self.doc = doc
        write_json(self.config, self.doc)

    @property
    def sqlite_path(self) -> Path:
        return self.data / "events.sqlite"

    def sqlite_rows(self, where: str = "1=1", params: tuple = ()) -> list[dict]:
        if not self.sqlite_path.exists():
            return []
        con = sqlite3.connect(str(self.sqlite_path), timeout=10)
        try:
            con.row_factory = sqlite3.Row
            try:
                rows = con.execute(f"SELECT * FROM events WHERE {where} ORDER BY timestamp_ms, rowid", params).fetchall()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return []
                raise
            return [dict(r) for r in rows]
        finally:
            con.close()

    def wait_rows(self, count: int, where: str = "1=1", params: tuple = (), timeout: float = 5.0) -> list[dict]:
        """The rows once there are at least `count`. A response may go out before its event is written when the
        sink takes longer than --event-ack-timeout (100 ms) (EventWriter's guarantee), so a test that checks
        fields rather than that guarantee waits for them; one that checks that nothing else was recorded
        asserts the exact rows after a last, valid request (each sink's writer is first in, first out)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sqlite_rows(where, params)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.02)

    def wait_jsonl(self, count: int, path: Path | None = None, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.jsonl_events(path)
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.02)

    def jsonl_events(self, path: Path | None = None) -> list[dict]:
        p = path or self.jsonl
        if not p.exists():
            return []
        lines = p.read_bytes().split(b"\n")
        assert lines[-1] == b"", "the JSON Lines file does not end with a newline (a torn line)"
        return [json.loads(line) for line in lines[:-1]]


@pytest.fixture
def env(tmp_path) -> Env:
    """A configuration with one set `marketing` on links.example.com writing to SQLite and JSON Lines
    (both OPEN and CLICK), and a second set `news` on go.example.org writing to SQLite only."""
    keys = [keygen()]
    jsonl = tmp_path / "events.jsonl"
    doc = config_document(
        [config_set("marketing", DOMAIN, event_destinations(jsonl)),
         config_set("news", OTHER_DOMAIN, event_destinations(None))],
        keys)
    e = Env(tmp_path, tmp_path / "config.json", tmp_path / "data", jsonl, keys, doc)
    e.write()
    return e


# ---------------------------------------------------------------------------------------------------------------
# The server process


class Server:
    START_LINE = re.compile(r"linktrack-server listening public=([0-9.]+):(\d+) admin=([0-9.]+):(\d+)")

    def __init__(self, config: Path, data: Path, extra: list[str] = (), env_vars: dict | None = None):
        self.args = [str(SERVER_BIN), "serve", "--config", str(config), "--data-directory", str(data),
                     "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", *extra]
        e = dict(os.environ)
        e.pop("LINKTRACK_CONFIG", None)
        if env_vars:
            e.update(env_vars)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=e)
        self.lines: list[str] = []
        self.lock = threading.Condition()
        self.port = self.admin_port = None
        self.readers = [threading.Thread(target=self._pump, args=(s,), daemon=True)
                        for s in (self.proc.stderr, self.proc.stdout)]
        for t in self.readers:
            t.start()
        self.wait_for_log(self.START_LINE, timeout=30)

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
        with self.lock:
            self.lock.notify_all()

    @property
    def log(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def wait_for_log(self, pattern, timeout: float = 10, start: int = 0) -> str:
        """Waits for a log line (from line `start` on) that matches `pattern`; returns it."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for line in self.lines[start:]:
                    if rx.search(line):
                        return line
                if self.proc.poll() is not None and not any(t.is_alive() for t in self.readers):
                    raise AssertionError(f"server exited ({self.proc.returncode}) before logging {rx.pattern!r}:\n"
                                         + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no log line {rx.pattern!r} within {timeout}s:\n" + "\n".join(self.lines))
                self.lock.wait(min(left, 0.2))

    def line_count(self) -> int:
        with self.lock:
            return len(self.lines)

    def get(self, target: str, host: str | None = DOMAIN, headers=(), source: str | None = None) -> Response:
        return http(self.port, "GET", target, host, headers, source=source)

    def click(self, url: str, ua: str | None = BROWSER_UA, headers=(), source: str | None = None) -> Response:
        h = list(headers)
        if ua is not None:
            h.append(("User-Agent", ua))
        return http(self.port, "GET", target_of(url), host_of(url), h, source=source)

    def admin(self, path: str) -> Response:
        return http(self.admin_port, "GET", path, host="127.0.0.1")

    def metrics(self) -> str:
        return self.admin("/metrics").body.decode()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
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


@pytest.fixture
def start_server():
    """Starts linktrack-server processes; stops every one still running at the end of the test."""
    started: list[Server] = []

    def start(e: Env, extra: list[str] = (), env_vars: dict | None = None) -> Server:
        s = Server(e.config, e.data, list(extra), env_vars)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop(timeout=15)


@pytest.fixture
def server(env, start_server) -> Server:
    return start_server(env)


def metric_value(metrics: str, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
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


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)
