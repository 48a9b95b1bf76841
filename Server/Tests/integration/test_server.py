"""linktrack-server over real HTTP: the "Tests (real HTTP, no mocks of the server)" section of issue 17.

Every test starts the real `linktrack-server` binary on ephemeral ports, signs its links with the real
`linktrack` filter, and talks to it over raw sockets (conftest.RawHTTP). Run from the repository root:

    python3 -m pytest -q Server/Tests/integration
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone

from conftest import (
    BROWSER_UA, DOMAIN, GIF, OTHER_DOMAIN, SERVER_BIN, ConnectionClosed, Env, RawHTTP, anchor_hrefs,
    build_request, click_urls, config_set, event_destinations, filter_html, filter_message, host_of,
    http, keygen, links_document, metric_value, open_urls, replace_atomically, run, signed_click_target,
    signed_open_target, target_of, wait_until, write_json,
)

NOT_FOUND_PAGE_TYPE = b"text/html; charset=utf-8"


def query_param(url: str, name: str) -> str:
    """A parameter of a tracking URL's query (percent-decoded)."""
    query = url.split("?", 1)[1]
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return urllib.parse.unquote(value)
    raise KeyError(name)


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def tracked(env: Env, destinations: list[str], message_id: str, tags=None, configuration_set=None) -> list[str]:
    out = filter_html(env.config, links_document(destinations, tags), message_id, configuration_set)
    domain = DOMAIN if configuration_set in (None, "marketing") else OTHER_DOMAIN
    urls = click_urls(out, domain)
    assert len(urls) == len(destinations), f"the filter tracked {len(urls)} of {len(destinations)} links"
    return urls


def open_url(env: Env, message_id: str, configuration_set=None) -> str:
    out = filter_html(env.config, links_document(["https://example.com/"]), message_id, configuration_set)
    domain = DOMAIN if configuration_set in (None, "marketing") else OTHER_DOMAIN
    urls = open_urls(out, domain)
    assert len(urls) == 1
    return urls[0]


# ---------------------------------------------------------------------------------------------------------------
# Round trip: filter -> click -> Location, byte for byte

LONG_PATH = "https://example.com/" + "/".join("segment-%03d" % i for i in range(150))  # about 1,800 bytes
LONG_QUERY = "https://example.com/search?" + "&".join(f"key{i}=val{i};x" for i in range(100))  # 1,400 bytes, 1,600 percent-encoded
LONG_FRAGMENT = "https://example.com/long#" + "f" * 1750

# (destination, href as written in the HTML source, or None for html.escape(destination))
AWKWARD = [
    ("https://example.com/", None),
    ("http://example.com/plain-http", None),
    ("https://example.com/a%20b%2Fc%3Fd", None),
    ("https://example.com/%7Euser/%E2%82%AC?x=%41%42", None),
    ("https://example.com/bad%zzescape%", None),
    ("https://example.com/?a=1&b=2", "https://example.com/?a=1&b=2"),  # a raw & in the source
    ("https://example.com/?a=1&amp=2", None),  # the URL itself holds "&amp=2"
    ("https://example.com/p;param?x=1;y=2&z=3", "https://example.com/p&#x3B;param?x=1&#59;y=2&#38;z=3"),
    ("https://example.com/?q=a%26b%3Bc&r=%3D", None),
    ("https://example.com/path#fragment", None),
    ("https://example.com/path?x=1#frag?with=query&and=amp", None),
    ("https://example.com/#!/spa/route?id=7", None),
    ("https://example.com/p#%23encoded%20frag", None),
    ("https://example.com/p?#", None),
    ("https://bücher.de/", None),
    ("https://bücher.de/straße?ü=ö#ä", None),
    ("https://例え.jp/パス?q=値", None),
    ("https://münchen.example/weg", None),
    ("https://xn--bcher-kva.de/", None),
    ("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9", None),
    ("https://xn--mnchen-3ya.example/?q=1&r=2", None),
    ("https://пример.рф/путь", None),
    (LONG_PATH, None),
    (LONG_QUERY, None),
    (LONG_FRAGMENT, None),
    ("https://user:p%40ss@example.com:8443/secure", None),
    ("http://[2001:db8::1]:8080/v6?x=1", None),
    ("http://192.0.2.7/ip", None),
    ("HTTPS://EXAMPLE.COM/UPPER?Q=1", None),
    ("https://example.com/plus+sign?q=a+b&c=d%2Be", None),
    ("https://example.com/sub-delims/!$'()*,;=:@", None),
    ("https://example.com/brackets[]?a[]=1&a[]=2", None),
    ("https://example.com/tilde~dot./..//double//slash", None),
    ("https://example.com/%0D%0ASet-Cookie:%20x=1", None),
    ("https://example.com/?next=https%3A%2F%2Fevil.example%2F", None),
    ("https://example.com/?redirect=https://other.example/?a=1&b=2", None),
    ("https://example.com/%00nul", None),
    ("https://example.com/it's?name='x'", None),
    ("https://example.com/percent%25literal%2525", None),
    ("https://example.com/utf8/日本語?キー=値#フラグ", None),
    ("https://example.com/emoji/😀?e=🎉", None),
    ("https://example.com:443/default-port", None),
    ("https://example.com./trailing-dot-host", None),
    ("https://links.example.com.evil.example/lookalike", None),
    ("https://example.com/?utm_source=news&utm_medium=email&utm_campaign=spring%202026", None),
    ("https://example.com/?a=&b&=c&&d==", None),
    ("https://example.com/ends-with-amp?x=1&", None),
    ("https://example.com/semicolon-only;?;#;", None),
    ("https://example.com/?q=%F0%9F%98%80%e2%82%ac", None),
    ("https://EXAMPLE.com/#", None),
]


def test_fifty_awkward_destinations_round_trip_byte_exact(env, server):
    import html as htmllib
    assert len(AWKWARD) == 50
    assert 1700 <= len(LONG_PATH.encode()) <= 1900 and 1700 <= len(LONG_FRAGMENT.encode()) <= 1900
    sources = [src if src is not None else htmllib.escape(dest, quote=True) for dest, src in AWKWARD]
    for (dest, _), src in zip(AWKWARD, sources):
        assert htmllib.unescape(src) == dest  # the test's own premise: the source href means this URL
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n"]
    parts += [f'<p><a href="{src}">link {i}</a></p>\n' for i, src in enumerate(sources)]
    parts.append("</body></html>\n")
    document = b"\xef\xbb\xbf" + "".join(parts).encode("utf-8")

    output = filter_html(env.config, document, "roundtrip@example.com")
    urls = click_urls(output)
    assert len(urls) == 50, [h for h in anchor_hrefs(output) if not h.startswith("https://" + DOMAIN)]

    with RawHTTP(server.port) as conn:  # one keep-alive connection for all 50
        for i, ((dest, _), url) in enumerate(zip(AWKWARD, urls)):
            assert query_param(url, "i") == str(i)
            r = conn.request("GET", target_of(url), host_of(url), [("User-Agent", BROWSER_UA)])
            assert r.status == 302, (i, dest, r.status)
            assert r.header("location") == dest.encode("utf-8"), (i, dest)
            assert r.header("cache-control") == b"no-store, private"
            assert r.body == b""
            assert [n for n in r.header_names() if n == "location"] == ["location"]

    rows = env.wait_rows(50)
    assert sorted((row["link_index"], row["link"]) for row in rows) == [(i, d) for i, (d, _) in enumerate(AWKWARD)]
    lines = env.wait_jsonl(50)
    assert [e["click"]["link"] for e in sorted(lines, key=lambda e: e["linkTrack"]["linkIndex"])] == [d for d, _ in AWKWARD]
    assert len(rows) == 50


# ---------------------------------------------------------------------------------------------------------------
# Tampering: every single-byte change of a real token is refused

# Bytes a request target can carry (RFC 3986 unreserved, sub-delims, ":@/?%"), "#" excepted.
TARGET_BYTES = sorted(set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"))


def test_every_single_byte_change_of_a_token_is_404_never_a_redirect(env, server):
    url = tracked(env, ["https://example.com/a?b=1&c=2"], "tamper@example.com")[0]
    target = target_of(url).encode()
    assert server.click(url).status == 302  # the untouched token works
    assert len(env.wait_rows(1)) == 1

    mutants = set()
    for pos in range(len(target)):
        for b in TARGET_BYTES:
            if b != target[pos]:
                mutants.add(target[:pos] + bytes([b]) + target[pos + 1:])
        mutants.add(target[:pos] + target[pos + 1:])  # and each byte deleted
    mutants.discard(target)
    mutants = sorted(mutants)
    assert len(mutants) > 70 * len(target)

    results: dict[bytes, tuple[int, bytes | None, bytes | None, bytes]] = {}
    # A target that no longer starts with "/" is not a valid origin-form request: one connection each.
    singles = [m for m in mutants if not m.startswith(b"/")]
    for m in singles:
        with RawHTTP(server.port) as c:
            c.send(build_request("GET", m, DOMAIN, [("Connection", "close")]))
            try:
                r = c.read_response()
                results[m] = (r.status, r.header("location"), r.header("content-type"), r.body)
            except ConnectionClosed:
                results[m] = (0, None, None, b"")
    rest = [m for m in mutants if m.startswith(b"/")]
    batch = 250
    for start in range(0, len(rest), batch):
        chunk = rest[start:start + batch]
        with RawHTTP(server.port) as c:  # pipelined on one connection
            c.send(b"".join(build_request("GET", m, DOMAIN, [("User-Agent", BROWSER_UA)]) for m in chunk))
            for m in chunk:
                r = c.read_response()
                results[m] = (r.status, r.header("location"), r.header("content-type"), r.body)

    for m, (status, location, ctype, body) in results.items():
        assert location is None, (m, status, location)
        if m.startswith(b"/o/"):
            # The open path: a refused open still gets the GIF, never a redirect.
            assert (status, ctype, body) == (200, b"image/gif", GIF), m
        elif m.startswith(b"/"):
            assert status == 404, (m, status)
            assert ctype == NOT_FOUND_PAGE_TYPE and b"<html" in body, m
        else:
            assert status in (0, 400, 404), (m, status)

    metrics = server.metrics()
    bad_clicks = metric_value(metrics, "linktrack_bad_tokens_total", kind="click")
    assert bad_clicks == sum(1 for m in rest if m.startswith(b"/c/"))
    assert metric_value(metrics, "linktrack_bad_tokens_total", kind="click", reason="bad-signature") > 0
    assert metric_value(metrics, "linktrack_bad_tokens_total", kind="click", reason="unknown-key") > 0
    assert server.click(url).status == 302  # and the server still serves the real one
    assert len(env.wait_rows(2)) == 2, "a tampered token recorded an event"


def test_signing_key_rotation_old_key_verifies_unknown_key_is_404(env, start_server, tmp_path):
    old, new, stranger = env.keys[0], keygen(), keygen()
    old_link = tracked(env, ["https://example.com/old"], "rot@example.com")[0]
    env.doc["SigningKeys"] = [new, old]
    env.write()
    new_link = tracked(env, ["https://example.com/new"], "rot@example.com")[0]
    assert f".{new['KeyId']}." in new_link and f".{old['KeyId']}." in old_link
    stranger_cfg = write_json(tmp_path / "stranger.json", dict(env.doc, SigningKeys=[stranger]))
    stranger_link = click_urls(filter_html(stranger_cfg, links_document(["https://example.com/x"]), "rot@example.com"))[0]

    server = start_server(env)
    assert server.click(old_link).header("location") == b"https://example.com/old"
    assert server.click(new_link).header("location") == b"https://example.com/new"
    r = server.click(stranger_link)
    assert r.status == 404 and r.header("location") is None
    assert metric_value(server.metrics(), "linktrack_bad_tokens_total", kind="click", reason="unknown-key") == 1


def test_the_independent_signer_writes_what_the_filter_writes(env):
    # The premise of the next test: conftest's signer follows the documented format byte for byte.
    key = env.keys[0]
    out = filter_message(env.config, MESSAGE.format(mid="signer@example.com").encode())
    links, pixel = click_urls(out), open_urls(out)[0]
    tags = "campaign=spring,campaign=fall,source=newsletter"
    assert target_of(links[0]) == signed_click_target(key, "signer@example.com", "marketing", 0,
                                                      "https://example.com/sale?utm=1&x=%41",
                                                      link_tags="position:header;kind:cta;kind:primary", message_tags=tags)
    assert target_of(links[1]) == signed_click_target(key, "signer@example.com", "marketing", 1, "https://bücher.de/ü",
                                                      message_tags=tags)
    assert target_of(pixel) == signed_open_target(key, "signer@example.com", "marketing", message_tags=tags)


def test_a_signed_destination_that_cannot_be_a_location_is_404(env, server):
    key = env.keys[0]
    ok = signed_click_target(key, "unsafe@example.com", "marketing", 0, "https://example.com/ok")
    r = server.get(ok, headers=[("User-Agent", BROWSER_UA)])
    assert (r.status, r.header("location")) == (302, b"https://example.com/ok")
    unsafe = [
        "https://example.com/\r\nSet-Cookie: injected=1",
        "https://example.com/\nX-Injected: 1",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://example.com/\x7f",
        "https://example.com/\ttab",
        "",
    ]
    for i, dest in enumerate(unsafe):
        r = server.get(signed_click_target(key, "unsafe@example.com", "marketing", i + 1, dest),
                       headers=[("User-Agent", BROWSER_UA)])
        assert r.status == 404 and r.header("location") is None, (dest, r.status)
        assert b"injected" not in r.head_bytes.lower()
    assert server.get(ok, headers=[("User-Agent", BROWSER_UA)]).status == 302
    assert [r["link"] for r in env.wait_rows(2)] == ["https://example.com/ok"] * 2
    m = server.metrics()
    assert metric_value(m, "linktrack_bad_tokens_total", kind="click", reason="unsafe-destination") == len(unsafe)


# ---------------------------------------------------------------------------------------------------------------
# Host routing


def test_host_routing(env, server):
    url = tracked(env, ["https://example.com/host"], "host@example.com")[0]
    news_url = tracked(env, ["https://example.com/news"], "host@example.com", configuration_set="news")[0]
    assert host_of(news_url) == OTHER_DOMAIN
    target, news_target = target_of(url), target_of(news_url)

    for host in (DOMAIN, DOMAIN.upper(), "Links.Example.Com", DOMAIN + ":8080", DOMAIN + ".", DOMAIN + ":443"):
        r = http(server.port, "GET", target, host, [("User-Agent", BROWSER_UA)])
        assert (r.status, r.header("location")) == (302, b"https://example.com/host"), host
    assert http(server.port, "GET", news_target, OTHER_DOMAIN).status == 302

    refused = {
        "evil.example": target,
        "127.0.0.1": target,
        f"127.0.0.1:{server.port}": target,
        "links.example.com.evil.example": target,
        "example.com": target,
        "evil.example@links.example.com": target,
        "links.example.co": target,
        OTHER_DOMAIN: target,  # a real redirect domain, but of another set than the token's
        DOMAIN + " ": news_target,
    }
    refused[DOMAIN] = news_target  # the news set's token on the marketing domain
    for host, t in refused.items():
        r = http(server.port, "GET", t, host, [("User-Agent", BROWSER_UA)])
        assert r.status == 404 and r.header("location") is None, (host, r.status)
        assert r.header("cache-control") == b"no-store, private"

    # No Host at all: HTTP/1.0 may omit it (404); HTTP/1.1 must send it (400 or 404). Never a redirect.
    with RawHTTP(server.port) as c:
        c.send(b"GET " + target.encode() + b" HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 404 and r.header("location") is None
    with RawHTTP(server.port) as c:
        c.send(b"GET " + target.encode() + b" HTTP/1.1\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        assert r.status in (400, 404) and r.header("location") is None

    m = server.metrics()
    assert metric_value(m, "linktrack_bad_tokens_total", kind="click", reason="unknown-host") >= 6
    assert metric_value(m, "linktrack_bad_tokens_total", kind="click", reason="wrong-host") >= 2

    # The admin listener is not a redirect domain, and the redirect listener has no admin routes.
    r = http(server.admin_port, "GET", target, DOMAIN)
    assert r.status == 404 and r.header("location") is None
    for path in ("/health", "/ready", "/metrics"):
        assert http(server.port, "GET", path, DOMAIN).status == 404
    assert server.click(url).status == 302
    # The six accepted Host spellings, the news click and the last one; nothing refused was recorded.
    assert len(env.wait_rows(8)) == 8


def test_two_host_fields_are_never_served(env, server):
    # RFC 9112 3.2: a request with more than one Host field is invalid (400). Host is what routes a request
    # to a configuration set, so a server that believed the first of two could be steered past a front end
    # that routes by the other; the rule makes anything but one matching Host a 404.
    url = tracked(env, ["https://example.com/dup"], "dup@example.com")[0]
    pixel = open_url(env, "dup@example.com")
    for hosts in ([DOMAIN, "evil.example"], ["evil.example", DOMAIN], [DOMAIN, DOMAIN.upper()], [DOMAIN, OTHER_DOMAIN]):
        for t in (target_of(url), target_of(pixel)):
            with RawHTTP(server.port) as c:
                extra = "".join(f"Host: {h}\r\n" for h in hosts)
                c.send(f"GET {t} HTTP/1.1\r\n{extra}User-Agent: {BROWSER_UA}\r\nConnection: close\r\n\r\n".encode())
                r = c.read_response()
            assert r.header("location") is None, (hosts, t, r.status)
            if t.startswith("/c/"):
                assert r.status in (400, 404), (hosts, r.status)
            else:
                assert r.status in (200, 400) and (r.status == 400 or r.body == GIF), (hosts, r.status)
    assert server.click(url).status == 302
    assert len(env.wait_rows(1)) == 1, "a request with two Host fields was recorded"


def test_admin_endpoints(env, server):
    assert server.admin("/health").status == 200
    assert env.sqlite_path.exists(), "the SQLite store is not opened at start"
    r = server.admin("/ready")
    assert r.status == 200 and r.body.startswith(b"ready\n"), r.body
    assert b"sqlite ok" in r.body and b"jsonlines:" in r.body
    url = tracked(env, ["https://example.com/m"], "metrics@example.com")[0]
    assert server.click(url).status == 302
    m = server.metrics()
    assert metric_value(m, "linktrack_requests_total", kind="click", configuration_set="marketing", outcome="redirect") == 1
    wait_until(lambda: metric_value(server.metrics(), "linktrack_events_total", kind="click",
                                    configuration_set="marketing", sink="sqlite") == 1, message="the event counted")
    m = server.metrics()
    assert metric_value(m, "linktrack_events_lost_total") == 0
    assert metric_value(m, "linktrack_sink_write_seconds_count", sink="sqlite") >= 1
    assert "linktrack_event_queue_depth" in m


# ---------------------------------------------------------------------------------------------------------------
# HEAD, bad opens, other methods


def read_head_only(port: int, method: str, target: str, host: str = DOMAIN, headers=()) -> tuple[bytes, bytes]:
    """Sends one request with Connection: close and returns (head, everything after it until EOF)."""
    with RawHTTP(port) as c:
        c.send(build_request(method, target, host, [*headers, ("Connection", "close")]))
        raw = c.read_to_eof()
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, raw
    return head, rest


def header_set(head: bytes) -> tuple[bytes, list[bytes]]:
    lines = head.split(b"\r\n")
    fields = sorted(l.lower() for l in lines[1:] if not l.lower().startswith((b"date:", b"connection:")))
    return lines[0], fields


def test_head_answers_like_get_without_body_and_records_nothing(env, server):
    url = tracked(env, ["https://example.com/head?x=1&y=2"], "head@example.com")[0]
    pixel = open_url(env, "head@example.com")
    bad = target_of(url).replace("/c/1.", "/c/2.")
    ua = [("User-Agent", BROWSER_UA)]

    heads = {}
    for name, t in (("click", target_of(url)), ("open", target_of(pixel)), ("bad", bad)):
        head, rest = read_head_only(server.port, "HEAD", t, headers=ua)
        assert rest == b"", (name, rest)
        heads[name] = head
    assert env.sqlite_rows() == [] and env.jsonl_events() == [], "HEAD recorded an event"

    for name, t in (("click", target_of(url)), ("open", target_of(pixel)), ("bad", bad)):
        head, body = read_head_only(server.port, "GET", t, headers=ua)
        assert header_set(heads[name]) == header_set(head), name
        if name == "open":
            assert body == GIF
        if name == "bad":
            assert body.startswith(b"<!DOCTYPE html>")
    status, fields = header_set(heads["click"])
    assert status == b"HTTP/1.1 302 Found"
    assert b"location: https://example.com/head?x=1&y=2" in fields and b"cache-control: no-store, private" in fields
    status, fields = header_set(heads["open"])
    assert status.startswith(b"HTTP/1.1 200") and b"content-length: 43" in fields and b"content-type: image/gif" in fields
    assert header_set(heads["bad"])[0].startswith(b"HTTP/1.1 404")
    assert [r["event_type"] for r in env.wait_rows(2)] == ["Click", "Open"]  # only the two GETs


def test_bad_open_token_gets_the_gif_and_records_nothing(env, server):
    pixel = open_url(env, "badopen@example.com")
    click = tracked(env, ["https://example.com/c"], "badopen@example.com")[0]
    t = target_of(pixel)
    mac_at = t.index(".", len("/o/1.")) + 1
    flipped = t[:mac_at] + ("A" if t[mac_at] != "A" else "B") + t[mac_at + 1:]
    cases = [
        (flipped, DOMAIN),  # bad signature
        (t.replace("&s=marketing", "&s=marketinh"), DOMAIN),  # altered query
        (t.replace("." + t.split(".")[1] + ".", ".k00000000.", 1), DOMAIN),  # a key not in SigningKeys
        ("/o/garbage", DOMAIN),  # malformed
        ("/o/", DOMAIN),
        (t, "evil.example"),  # unknown host
        (t, OTHER_DOMAIN),  # wrong host for the token's set
        (target_of(click).replace("/c/", "/o/", 1), DOMAIN),  # a click token on the open path
    ]
    for target, host in cases:
        r = http(server.port, "GET", target, host, [("User-Agent", BROWSER_UA)])
        assert r.status == 200, (target, host, r.status)
        assert r.body == GIF and len(r.body) == 43
        assert r.header("content-type") == b"image/gif"
        assert r.header("cache-control") == b"no-store, private"
        assert r.header("location") is None
    assert env.sqlite_rows() == [] and env.jsonl_events() == []
    m = server.metrics()
    assert metric_value(m, "linktrack_bad_tokens_total", kind="open") == len(cases)
    for reason in ("bad-signature", "unknown-key", "malformed", "unknown-host", "wrong-host"):
        assert metric_value(m, "linktrack_bad_tokens_total", kind="open", reason=reason) >= 1, reason
    assert metric_value(m, "linktrack_requests_total", kind="open", outcome="refused") == len(cases)
    # The real pixel records its open.
    assert server.get(t, headers=[("User-Agent", BROWSER_UA)]).body == GIF
    assert [r["event_type"] for r in env.wait_rows(1)] == ["Open"]


def test_other_methods_get_405(env, server):
    url = tracked(env, ["https://example.com/post"], "post@example.com")[0]
    pixel = open_url(env, "post@example.com")
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for t in (target_of(url), target_of(pixel)):
            body = b"a=1" if method in ("POST", "PUT", "PATCH") else None
            r = http(server.port, method, t, DOMAIN, [("User-Agent", BROWSER_UA)], body=body)
            assert r.status == 405, (method, t, r.status)
            assert r.header("location") is None
            assert r.header("allow") == b"GET, HEAD"
    assert env.sqlite_rows() == [] and env.jsonl_events() == []
    assert server.click(url).status == 302
    assert [r["event_type"] for r in env.wait_rows(1)] == ["Click"]


# ---------------------------------------------------------------------------------------------------------------
# Reload


def padded(doc: dict, size: int = 16384) -> bytes:
    text = json.dumps(doc, indent=1).encode()
    assert len(text) < size
    return text + b" " * (size - len(text) - 1) + b"\n"


def with_third_set(env: Env, name="promo", domain="t.promo.example", jsonl=None) -> dict:
    doc = json.loads(json.dumps(env.doc))
    doc["ConfigurationSets"].append(config_set(name, domain, event_destinations(jsonl)))
    return doc


def promo_link(env: Env, tmp_path, doc: dict, dest="https://example.com/promo") -> str:
    cfg = write_json(tmp_path / "signing.json", doc)
    out = filter_html(cfg, links_document([dest]), "promo@example.com", "promo")
    urls = click_urls(out, "t.promo.example")
    assert len(urls) == 1
    return urls[0]


def test_reload_on_sighup(env, start_server, tmp_path):
    # The file is rewritten in place with the same size and modification time, so that only SIGHUP can
    # bring it into force (the watcher reloads a file whose inode, size or mtime changed).
    env.config.write_bytes(padded(env.doc))
    server = start_server(env)
    old_link = tracked(env, ["https://example.com/old"], "sighup@example.com")[0]
    new_doc = with_third_set(env)
    link = promo_link(env, tmp_path, new_doc)
    assert server.click(link).status == 404

    st = os.stat(env.config)
    with open(env.config, "r+b") as f:
        f.write(padded(new_doc))
    os.utime(env.config, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(env.config).st_ino == st.st_ino and os.stat(env.config).st_size == st.st_size
    lines = server.line_count()
    time.sleep(2.5)  # more than two rounds of the watcher
    assert "configuration reloaded" not in "\n".join(server.log.splitlines()[lines:]), \
        "the watcher reloaded a file whose stamp did not change"
    assert server.click(link).status == 404

    # SIGHUP also reopens JSON Lines files: rotate the file first, as logrotate would.
    assert server.click(old_link).status == 302
    rotated = env.jsonl.with_name("events.jsonl.1")
    os.rename(env.jsonl, rotated)
    assert server.click(old_link).status == 302  # still written to the renamed file until SIGHUP

    server.signal(signal.SIGHUP)
    line = server.wait_for_log("configuration reloaded", start=lines)
    assert "SIGHUP" in line
    r = server.click(link)
    assert (r.status, r.header("location")) == (302, b"https://example.com/promo")
    wait_until(lambda: server.click(old_link).status == 302 and env.jsonl.exists(), timeout=3,
               message="a new JSON Lines file after SIGHUP")
    assert len(env.wait_jsonl(2, rotated)) == 2
    assert all(e["click"]["link"] == "https://example.com/old" for e in env.wait_jsonl(1))
    in_files = len(env.jsonl_events(rotated)) + len(env.jsonl_events())
    assert len(env.wait_rows(in_files, "configuration_set = 'marketing'")) == in_files  # none lost by the rotation
    assert metric_value(server.metrics(), "linktrack_configuration_reloads_total", result="success") == 1


def test_reload_on_atomic_file_replace(env, start_server, tmp_path):
    server = start_server(env)
    old_link = tracked(env, ["https://example.com/old"], "replace@example.com")[0]
    promo_lines = tmp_path / "promo.jsonl"
    new_doc = with_third_set(env, jsonl=promo_lines)  # with a sink the server has not opened yet
    link = promo_link(env, tmp_path, new_doc)
    assert server.click(link).status == 404

    # Clients keep clicking through the reloads: none is dropped or refused.
    stop = threading.Event()
    statuses: Counter = Counter()

    def clicker():
        with RawHTTP(server.port) as c:
            while not stop.is_set():
                statuses[c.request("GET", target_of(old_link), DOMAIN, [("User-Agent", BROWSER_UA)]).status] += 1

    clickers = [threading.Thread(target=clicker) for _ in range(2)]
    for t in clickers:
        t.start()
    lines = server.line_count()
    replace_atomically(env.config, json.dumps(new_doc))
    line = server.wait_for_log("configuration reloaded", timeout=5, start=lines)
    assert "file changed" in line
    time.sleep(0.3)
    stop.set()
    for t in clickers:
        t.join(10)
    assert set(statuses) == {302} and statuses[302] > 10, statuses
    wait_until(lambda: server.click(link).status == 302, timeout=3, message="the new set's link works")
    assert server.click(link).header("location") == b"https://example.com/promo"
    assert server.click(old_link).status == 302
    assert len(env.wait_rows(2, "configuration_set = 'promo'")) == 2, "the new set's clicks were not recorded"
    assert [e["mail"]["tags"]["ses:configuration-set"] for e in env.wait_jsonl(2, promo_lines)] == [["promo"]] * 2

    # A set removed by a reload stops answering.
    lines = server.line_count()
    replace_atomically(env.config, json.dumps(env.doc))
    server.wait_for_log("configuration reloaded", timeout=5, start=lines)
    wait_until(lambda: server.click(link).status == 404, timeout=3, message="the removed set's link is refused")


def test_a_new_config_that_does_not_validate_keeps_the_old_one(env, start_server, tmp_path):
    server = start_server(env)
    link = tracked(env, ["https://example.com/kept"], "invalid@example.com")[0]
    good_new = with_third_set(env)
    promo = promo_link(env, tmp_path, good_new)
    bad_key = json.loads(json.dumps(good_new))
    bad_key["SigningKeys"] = [{"KeyId": "kbad", "Secret": "not base64!"}]
    unknown_field = json.loads(json.dumps(good_new))
    unknown_field["ConfigurationSets"][0]["TrackingOptions"]["NoSuchOption"] = True
    invalid = [
        ("not json", b'{"ConfigurationSets": [ '),
        ("bad key", json.dumps(bad_key).encode()),
        ("unknown field", json.dumps(unknown_field).encode()),
        ("empty", b""),
        ("deleted", None),
    ]
    refusals = 0
    for name, content in invalid:
        lines = server.line_count()
        if content is None:
            os.remove(env.config)
        else:
            replace_atomically(env.config, content)
        line = server.wait_for_log("refused", timeout=5, start=lines)
        refusals += 1
        assert "previous one stays in force" in line, line
        r = server.click(link)
        assert (r.status, r.header("location")) == (302, b"https://example.com/kept"), name
        assert server.click(promo).status == 404, name
    # SIGHUP with a bad file: refused again, old still in force.
    lines = server.line_count()
    server.signal(signal.SIGHUP)
    line = server.wait_for_log("refused", timeout=5, start=lines)
    refusals += 1
    assert "SIGHUP" in line
    assert server.click(link).status == 302
    assert server.admin("/ready").status == 200
    assert metric_value(server.metrics(), "linktrack_configuration_reloads_total", result="failure") == refusals

    # A valid file afterwards is taken.
    lines = server.line_count()
    replace_atomically(env.config, json.dumps(good_new))
    server.wait_for_log("configuration reloaded", timeout=5, start=lines)
    assert server.click(promo).status == 302
    assert server.click(link).status == 302


def test_a_port_in_use_stops_the_server_cleanly(env):
    # A listener that cannot bind stops the start: an error and exit status 75, not a crash. The service group
    # cancels the services already running, the event writers among them (their sinks are opened at start),
    # so this runs a few times to catch a sink closed from a cancelled task.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        for _ in range(3):
            p = run([str(SERVER_BIN), "serve", "--config", str(env.config), "--data-directory", str(env.data),
                     "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0"], check=False, timeout=60)
            stderr = p.stderr.decode(errors="replace")
            assert p.returncode == 75, (p.returncode, stderr[-3000:])
            assert "Address already in use" in stderr
            assert "Assertion failed" not in stderr and "Fatal error" not in stderr, stderr[-3000:]
    finally:
        holder.close()


def test_server_refuses_to_start_on_an_invalid_config(env, tmp_path):
    env.config.write_text('{"ConfigurationSets": [}')
    p = run([str(SERVER_BIN), "serve", "--config", str(env.config), "--data-directory", str(env.data),
             "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"], check=False, timeout=30)
    assert p.returncode == 78, p.stderr
    assert b"not valid" in p.stderr
    p = run([str(SERVER_BIN), "serve", "--config", str(tmp_path / "missing.json"), "--data-directory", str(env.data),
             "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"], check=False, timeout=30)
    assert p.returncode == 66, p.stderr


# ---------------------------------------------------------------------------------------------------------------
# Events: every field, in SQLite and in JSON Lines

UUID_RX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SQLITE_COLUMNS = ["event_id", "event_type", "configuration_set", "message_id", "link_index", "link", "timestamp_ms",
                  "ip_address", "user_agent", "machine", "machine_reasons", "event_json"]

MESSAGE = (
    "From: Sender <sender@example.com>\r\n"
    "To: reader@example.net\r\n"
    "Subject: Spring sale\r\n"
    "Message-ID: <{mid}>\r\n"
    "X-SES-CONFIGURATION-SET: marketing\r\n"
    "X-SES-MESSAGE-TAGS: campaign=spring, campaign=fall\r\n"
    "X-SES-MESSAGE-TAGS: source=newsletter\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Spring sale: https://example.com/sale\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body>\r\n"
    "<a href=\"https://example.com/sale?utm=1&amp;x=%41\" ses:tags=\"position:header;kind:cta;kind:primary\">Sale</a>\r\n"
    "<a href=\"https://bücher.de/ü\">Books</a>\r\n"
    "<a href=\"https://example.com/unsubscribe\" ses:no-track>Unsubscribe</a>\r\n"
    "</body></html>\r\n"
    "--b1--\r\n"
)


def test_event_fields_in_sqlite_and_json_lines(env, start_server, tmp_path):
    clicks_only = tmp_path / "clicks.jsonl"
    disabled = tmp_path / "disabled.jsonl"
    destinations = event_destinations(env.jsonl)
    destinations.append({"Name": "clicks-only", "Enabled": True, "MatchingEventTypes": ["CLICK"],
                         "LinkTrackDestination": {"Type": "JSONLines", "Path": str(clicks_only)}})
    destinations.append({"Name": "off", "Enabled": False, "MatchingEventTypes": ["OPEN", "CLICK"],
                         "LinkTrackDestination": {"Type": "JSONLines", "Path": str(disabled)}})
    env.doc["ConfigurationSets"][0]["EventDestinations"] = destinations
    env.write()
    server = start_server(env)

    mid = "0100018c-events@example.com"
    out = filter_message(env.config, MESSAGE.format(mid=mid).encode())
    assert b"X-SES-MESSAGE-TAGS" not in out and b"X-SES-CONFIGURATION-SET" not in out
    urls = click_urls(out)
    assert len(urls) == 2  # the ses:no-track link stays as it is
    assert b'href="https://example.com/unsubscribe"' in out and b"ses:" not in out
    pixel = open_urls(out)[0]
    message_id = query_param(urls[0], "m")
    assert message_id == mid

    ua = 'Mozilla/5.0 (X11; Linux x86_64) "quoted" \\backslash\\ Käfer/1.0'
    t0 = now_ms()
    r = server.click(urls[0], ua=ua)
    assert (r.status, r.header("location")) == (302, b"https://example.com/sale?utm=1&x=%41")
    r = server.click(pixel, ua=ua)
    assert r.body == GIF
    r = server.click(urls[1], ua=None)
    assert r.header("location") == "https://bücher.de/ü".encode()
    t1 = now_ms()

    rows = env.wait_rows(3)
    assert [r["event_type"] for r in rows] == ["Click", "Open", "Click"]
    con = sqlite3.connect(str(env.sqlite_path))
    columns = [c[1] for c in con.execute("PRAGMA table_info(events)")]
    indexes = {i[1] for i in con.execute("PRAGMA index_list(events)")}
    journal = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    assert columns == SQLITE_COLUMNS
    assert {"events_message_id", "events_time", "events_set_type"} <= indexes
    assert journal == "wal"

    click, opened, bare = rows
    for row in rows:
        assert UUID_RX.match(row["event_id"]), row["event_id"]
        assert row["configuration_set"] == "marketing"
        assert row["message_id"] == mid
        assert t0 <= row["timestamp_ms"] <= t1
        assert row["ip_address"] == "127.0.0.1"
    assert len({r["event_id"] for r in rows}) == 3
    assert (click["link_index"], click["link"], click["user_agent"]) == (0, "https://example.com/sale?utm=1&x=%41", ua)
    assert (click["machine"], click["machine_reasons"]) == (0, "")
    assert (opened["link_index"], opened["link"], opened["user_agent"]) == (None, None, ua)
    assert (opened["machine"], opened["machine_reasons"]) == (0, "")
    assert (bare["link_index"], bare["link"], bare["user_agent"]) == (1, "https://bücher.de/ü", None)
    assert (bare["machine"], bare["machine_reasons"]) == (1, "missing-user-agent")

    message_tags = {"ses:configuration-set": ["marketing"], "campaign": ["spring", "fall"], "source": ["newsletter"]}
    expected = [
        {"eventType": "Click",
         "mail": {"messageId": mid, "tags": message_tags},
         "click": {"timestamp": iso_ms(click["timestamp_ms"]), "ipAddress": "127.0.0.1", "userAgent": ua,
                   "link": "https://example.com/sale?utm=1&x=%41",
                   "linkTags": {"position": ["header"], "kind": ["cta", "primary"]}},
         "linkTrack": {"eventId": click["event_id"], "linkIndex": 0, "machine": False, "machineReasons": []}},
        {"eventType": "Open",
         "mail": {"messageId": mid, "tags": message_tags},
         "open": {"timestamp": iso_ms(opened["timestamp_ms"]), "ipAddress": "127.0.0.1", "userAgent": ua},
         "linkTrack": {"eventId": opened["event_id"], "machine": False, "machineReasons": []}},
        {"eventType": "Click",
         "mail": {"messageId": mid, "tags": message_tags},
         "click": {"timestamp": iso_ms(bare["timestamp_ms"]), "ipAddress": "127.0.0.1", "userAgent": "",
                   "link": "https://bücher.de/ü", "linkTags": {}},
         "linkTrack": {"eventId": bare["event_id"], "linkIndex": 1, "machine": True,
                       "machineReasons": ["missing-user-agent"]}},
    ]
    lines = env.wait_jsonl(3)
    assert lines == expected  # whole objects: nothing SES knows and we cannot (source, destination...) invented
    assert [json.loads(r["event_json"]) for r in rows] == expected
    raw_lines = env.jsonl.read_bytes().decode().splitlines()
    assert [r["event_json"] for r in rows] == raw_lines  # the same bytes in both stores
    # MatchingEventTypes per destination: the CLICK-only file has the clicks; the disabled one nothing.
    assert env.wait_jsonl(2, clicks_only) == [expected[0], expected[2]]
    assert not disabled.exists() or disabled.read_bytes() == b""


# ---------------------------------------------------------------------------------------------------------------
# Client address: X-Forwarded-For only from TrustedProxies


def test_x_forwarded_for_counts_only_from_trusted_proxies(env, server):
    url = tracked(env, ["https://example.com/ip"], "xff@example.com")[0]
    cases = [
        # (source address, X-Forwarded-For fields, recorded ipAddress)
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.9"], "127.0.0.1"),  # a client cannot forge its address
        ("127.0.0.3", ["203.0.113.9"], "127.0.0.3"),  # nor can an untrusted proxy
        ("127.0.0.2", [], "127.0.0.2"),  # the trusted proxy, saying nothing
        ("127.0.0.2", ["203.0.113.9"], "203.0.113.9"),
        ("127.0.0.2", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),  # the right-most hop is the proxy's
        ("127.0.0.2", ["198.51.100.1", "203.0.113.10"], "203.0.113.10"),  # several fields, in order
        ("127.0.0.2", ["198.51.100.1, 127.0.0.2"], "198.51.100.1"),  # trusted hops are skipped
        ("127.0.0.2", ["2001:db8::7"], "2001:db8::7"),
        ("127.0.0.2", ["not-an-address"], "127.0.0.2"),
    ]
    for source, xff, _ in cases:
        r = server.click(url, headers=[("X-Forwarded-For", v) for v in xff], source=source)
        assert r.status == 302, (source, xff)
    rows = env.wait_rows(len(cases))
    assert [r["ip_address"] for r in rows] == [c[2] for c in cases]
    assert [e["click"]["ipAddress"] for e in env.wait_jsonl(len(cases))] == [c[2] for c in cases]


# ---------------------------------------------------------------------------------------------------------------
# Machine flags

CHROME = BROWSER_UA
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")
APPLE_MAIL = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"

OPEN_CASES = [
    # (user agent, X-Forwarded-For via the trusted proxy or None, reasons)
    (APPLE_MAIL, None, []),
    (IPHONE, None, []),
    ("Mozilla/5.0", None, ["apple-mail-privacy-protection"]),
    (FIREFOX, "17.58.101.7", ["apple-mail-privacy-protection"]),  # Apple's 17.0.0.0/8
    (FIREFOX, "18.58.101.7", []),
    (GMAIL_PROXY, None, ["google-image-proxy"]),
    (YAHOO_PROXY, None, ["yahoo-image-proxy"]),
    ("Mozilla/5.0", "17.1.2.3", ["apple-mail-privacy-protection"]),
    ("Mozilla/5.0 ", None, ["apple-mail-privacy-protection"]),  # HTTP trims field values: the bare agent again
]

SCANNER_UAS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.31.0",
    "Python-urllib/3.11",
    "curl/8.5.0",
    "Wget/1.21.3",
    "Go-http-client/1.1",
    "Java/17.0.2",
    "okhttp/4.12.0",
    "libwww-perl/6.72",
    "Apache-HttpClient/4.5.14 (Java/17)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    "Barracuda Sentinel (EE)",
    "Mimecast-URL-Protect",
    "Proofpoint-URLDefense/1.0",
    "Mozilla/5.0 (Windows NT 10.0) SafeLinks",
    "Symantec Email Security",
    "TrendMicro-Scanner",
    "Zscaler/6.2",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36 PREVIEW",
]


def test_machine_flags_for_opens(env, server):
    pixel = open_url(env, "machine-open@example.com")
    for ua, xff, _ in OPEN_CASES:
        headers = [("X-Forwarded-For", xff)] if xff else []
        r = server.click(pixel, ua=ua, headers=headers, source="127.0.0.2" if xff else None)
        assert r.body == GIF
    r = server.click(pixel, ua=None)  # no agent: not an open rule
    expected = [c[2] for c in OPEN_CASES] + [[]]
    rows = env.wait_rows(len(expected))
    assert [r["machine_reasons"].split(",") if r["machine_reasons"] else [] for r in rows] == expected
    assert [r["machine"] for r in rows] == [1 if e else 0 for e in expected]
    events = env.wait_jsonl(len(expected))
    assert [e["linkTrack"]["machineReasons"] for e in events] == expected
    assert [e["linkTrack"]["machine"] for e in events] == [bool(e) for e in expected]


def test_machine_flags_for_clicks_by_user_agent(env, server):
    # One link of one message, clicked again and again: never a burst.
    url = tracked(env, ["https://example.com/ua"], "machine-click@example.com")[0]
    cases = [(ua, ["link-scanner"]) for ua in SCANNER_UAS]
    cases += [(CHROME, []), (FIREFOX, []), (IPHONE, []), (APPLE_MAIL, []), ("Mozilla/5.0", []),
              (None, ["missing-user-agent"]), ("", ["missing-user-agent"]), ("   ", ["missing-user-agent"])]
    for ua, _ in cases:
        if ua is None:
            r = server.click(url, ua=None)
        else:
            r = http(server.port, "GET", target_of(url), DOMAIN, [("User-Agent", ua)])
        assert r.status == 302, ua
    # An Apple address is an open rule only.
    assert server.click(url, ua=CHROME, headers=[("X-Forwarded-For", "17.0.0.9")], source="127.0.0.2").status == 302
    cases.append((CHROME, []))
    rows = env.wait_rows(len(cases))
    got = [r["machine_reasons"].split(",") if r["machine_reasons"] else [] for r in rows]
    assert got == [c[1] for c in cases], [(c[0], g) for c, g in zip(cases, got) if c[1] != g]
    assert [e["linkTrack"]["machineReasons"] for e in env.wait_jsonl(len(cases))] == [c[1] for c in cases]


def test_machine_flags_for_click_bursts(env, server):
    fast = tracked(env, [f"https://example.com/fast/{i}" for i in range(4)], "burst@example.com")
    slow = tracked(env, [f"https://example.com/slow/{i}" for i in range(3)], "calm@example.com")
    other = tracked(env, ["https://example.com/other"], "other@example.com")

    # Three distinct links of one message within 2 s: the third click (and those after it) is a burst.
    assert server.click(fast[0]).status == 302
    assert server.click(fast[1], source="127.0.0.3").status == 302  # by anyone: another address
    assert server.click(fast[0]).status == 302  # the same link again: still two distinct
    assert server.click(other[0]).status == 302  # another message does not count
    assert server.click(fast[2]).status == 302
    assert server.click(fast[3], ua="curl/8.5.0").status == 302
    assert server.click(fast[0]).status == 302
    # Three distinct links more than 2 s apart in all: no burst.
    for i, u in enumerate(slow):
        if i:
            time.sleep(1.3)
        assert server.click(u).status == 302

    by_link = [(r["link"], r["machine_reasons"]) for r in env.wait_rows(10)]
    assert by_link == [
        ("https://example.com/fast/0", ""),
        ("https://example.com/fast/1", ""),
        ("https://example.com/fast/0", ""),
        ("https://example.com/other", ""),
        ("https://example.com/fast/2", "click-burst"),
        ("https://example.com/fast/3", "link-scanner,click-burst"),
        ("https://example.com/fast/0", "click-burst"),
        ("https://example.com/slow/0", ""),
        ("https://example.com/slow/1", ""),
        ("https://example.com/slow/2", ""),
    ]
    assert [e["linkTrack"]["machineReasons"] for e in env.wait_jsonl(10)][4:7] == [
        ["click-burst"], ["link-scanner", "click-burst"], ["click-burst"]]


# ---------------------------------------------------------------------------------------------------------------
# Durability: kill -9 under load


def test_kill_9_under_load_loses_no_acknowledged_click_and_stores_none_twice(env, start_server):
    destinations = [f"https://example.com/load/{i}" for i in range(30)]
    urls = tracked(env, destinations, "load@example.com")
    server = start_server(env)
    assert server.click(urls[0]).status == 302  # the stores exist before the load starts
    stop = threading.Event()
    lock = threading.Lock()
    acked: Counter = Counter()
    sent: Counter = Counter()
    errors: list[str] = []

    def client(k: int):
        i = k
        try:
            conn = RawHTTP(server.port, timeout=5)
        except OSError as e:
            errors.append(repr(e))
            return
        try:
            while not stop.is_set():
                u = urls[i % len(urls)]
                i += 7
                with lock:
                    sent[u] += 1
                r = conn.request("GET", target_of(u), DOMAIN, [("User-Agent", BROWSER_UA)])
                if r.status == 302 and r.header("location") is not None:
                    with lock:
                        acked[u] += 1
        except (OSError, ConnectionClosed):
            pass  # the server was killed
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(acked.values()) >= 1000, timeout=60, message="1,000 acknowledged clicks")
    deferred = metric_value(server.metrics(), "linktrack_events_deferred_total")
    time.sleep(0.5)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert sum(acked.values()) >= 1000
    print(f"kill -9: sent {sum(sent.values())}, acknowledged {sum(acked.values())}, deferred {deferred}")

    # Restart on the same data directory: the store holds every acknowledged click, none twice.
    server2 = start_server(env)
    rows = env.sqlite_rows("link LIKE 'https://example.com/load/%'")
    ids = [r["event_id"] for r in rows]
    assert len(ids) == len(set(ids))
    stored = Counter(r["link"] for r in rows)
    stored[destinations[0]] -= 1  # the warm-up click
    lines = env.jsonl_events()
    line_ids = [e["linkTrack"]["eventId"] for e in lines]
    assert len(line_ids) == len(set(line_ids)), "an event is in the JSON Lines file twice"
    in_lines = Counter(e["click"]["link"] for e in lines)
    in_lines[destinations[0]] -= 1
    missing = {}
    for u, d in zip(urls, destinations):
        assert stored[d] <= sent[u], (d, stored[d], sent[u])
        assert in_lines[d] <= sent[u], (d, in_lines[d], sent[u])
        if stored[d] < acked[u] or in_lines[d] < acked[u]:
            missing[d] = (acked[u], stored[d], in_lines[d])
    assert not missing, f"acknowledged clicks lost (acked, sqlite, jsonl); deferred before the kill: {deferred}: {missing}"

    # The restarted server serves and records.
    before = len(env.sqlite_rows())
    assert server2.click(urls[1]).status == 302
    assert len(env.wait_rows(before + 1)) == before + 1


# ---------------------------------------------------------------------------------------------------------------
# SIGTERM drains


def hold_sqlite_write_lock(path):
    con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    return con


def test_sigterm_completes_a_request_in_flight_and_its_event_is_stored(env, start_server):
    env.doc["ConfigurationSets"][0]["EventDestinations"] = event_destinations(None)  # SQLite only
    env.write()
    urls = tracked(env, ["https://example.com/warm", "https://example.com/inflight"], "drain@example.com")
    server = start_server(env, ["--event-ack-timeout", "20000"])
    assert server.click(urls[0]).status == 302

    lock = hold_sqlite_write_lock(env.sqlite_path)  # the server's next commit waits (busy_timeout 5 s)
    result = {}

    def click():
        try:
            r = server.click(urls[1])
            result["status"], result["location"], result["at"] = r.status, r.header("location"), time.monotonic()
        except Exception as e:  # noqa: BLE001
            result["error"] = repr(e)

    t = threading.Thread(target=click)
    t.start()
    time.sleep(0.5)
    assert "status" not in result and "error" not in result, "the click did not wait for its event"
    server.signal(signal.SIGTERM)
    time.sleep(1.0)
    assert server.proc.poll() is None, "the server exited with a request in flight"
    released = time.monotonic()
    lock.rollback()
    lock.close()
    t.join(15)
    assert result.get("status") == 302, result
    assert result["location"] == b"https://example.com/inflight"
    assert result["at"] >= released
    assert server.proc.wait(20) == 0
    assert [r["link"] for r in env.sqlite_rows()] == ["https://example.com/warm", "https://example.com/inflight"]


def test_sigterm_flushes_deferred_events(env, start_server):
    env.doc["ConfigurationSets"][0]["EventDestinations"] = event_destinations(None)
    env.write()
    urls = tracked(env, [f"https://example.com/d/{i}" for i in range(4)], "flush@example.com")
    server = start_server(env)  # default: answer after 100 ms even if the event is not written yet
    assert server.click(urls[0]).status == 302

    lock = hold_sqlite_write_lock(env.sqlite_path)
    for u in urls[1:]:
        r = server.click(u)
        assert r.status == 302  # a reader always reaches the destination
    # Answered while the lock still stops every commit: none of them waited for its event.
    assert metric_value(server.metrics(), "linktrack_events_deferred_total") == 3
    server.signal(signal.SIGTERM)
    time.sleep(0.5)
    lock.rollback()
    lock.close()
    assert server.proc.wait(20) == 0
    assert [r["link"] for r in env.sqlite_rows()] == [f"https://example.com/d/{i}" for i in range(4)]
    assert "event lost" not in server.log


def test_a_failing_sink_still_redirects_keeps_a_bounded_queue_and_retries(env, start_server, tmp_path):
    # The JSON Lines file's directory does not exist yet: every write fails until it does.
    missing = tmp_path / "not-yet" / "events.jsonl"
    sink = f"jsonlines:{missing}"
    env.doc["ConfigurationSets"][0]["EventDestinations"] = event_destinations(missing)
    env.write()
    dests = [f"https://example.com/r{i}" for i in range(3)]
    urls = tracked(env, dests, "retry@example.com")
    server = start_server(env, ["--event-queue-limit", "2"])
    ready = server.admin("/ready")  # before any event: the sink is opened at start
    assert ready.status == 503 and b"failing" in ready.body and b"sqlite ok" in ready.body, ready.body
    for u in urls:
        r = server.click(u)
        assert r.status == 302  # a reader always reaches the destination (the sink never took it)
    rows = env.wait_rows(3)
    assert [r["link"] for r in rows] == dests  # the healthy sink took them all
    ready = server.admin("/ready")
    assert ready.status == 503 and b"not ready" in ready.body and b"failing" in ready.body, ready.body
    m = server.metrics()
    assert metric_value(m, "linktrack_events_deferred_total", sink=sink) == 2  # kept in memory, retried
    assert metric_value(m, "linktrack_events_lost_total", sink=sink) == 1  # the queue (2) was full: lost
    assert metric_value(m, "linktrack_events_lost_total", sink="sqlite") == 0
    assert metric_value(m, "linktrack_sink_failures_total", sink=sink) >= 1
    lost_line = server.wait_for_log("event lost")
    assert rows[2]["event_id"] in lost_line  # the lost event is logged, whole

    missing.parent.mkdir()
    wait_until(lambda: missing.exists() and len(env.jsonl_events(missing)) == 2, timeout=6,
               message="the retried events in the JSON Lines file")
    events = env.jsonl_events(missing)
    assert [e["click"]["link"] for e in events] == dests[:2]
    assert [e["linkTrack"]["eventId"] for e in events] == [r["event_id"] for r in rows[:2]]
    wait_until(lambda: server.admin("/ready").status == 200, timeout=3, message="/ready again")
    assert server.click(urls[0]).status == 302
    assert len(env.wait_jsonl(3, missing)) == 3


# ---------------------------------------------------------------------------------------------------------------
# Limits


def test_slow_loris_connections_do_not_stop_a_normal_client(env, start_server):
    url = tracked(env, ["https://example.com/loris"], "loris@example.com")[0]
    server = start_server(env, ["--idle-timeout", "2"])
    trickle = b"GET /c/1.x HTTP/1.1\r\nHost: " + DOMAIN.encode() + b"\r\nX-Slow: " + b"a" * 200
    slow: list[socket.socket] = []
    idle: list[socket.socket] = []
    opened = time.monotonic()
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.setblocking(False)
        if i % 4 == 0:
            s.send(trickle[:1])
            slow.append(s)
        else:
            s.send(b"GET /c/")  # a request begun and never finished
            idle.append(s)
    assert len(slow) == 250
    progress = {s: 1 for s in slow}
    closed_at: dict[socket.socket, float] = {}
    stop = threading.Event()

    def trickler():
        while not stop.is_set():
            for s in slow:
                if s in closed_at:
                    continue
                try:
                    if s.recv(4096) == b"":
                        closed_at[s] = time.monotonic()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[s] = time.monotonic()
                    continue
                try:
                    s.send(trickle[progress[s]:progress[s] + 1])
                    progress[s] = min(progress[s] + 1, len(trickle) - 1)
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[s] = time.monotonic()
            time.sleep(0.1)

    t = threading.Thread(target=trickler)
    t.start()
    try:
        latencies = []
        for _ in range(10):
            t0 = time.monotonic()
            r = server.click(url)
            latencies.append(time.monotonic() - t0)
            assert r.status == 302 and r.header("location") == b"https://example.com/loris"
        # Promptly: well within the idle timeout, while all 1,000 connections were still open.
        assert sorted(latencies)[len(latencies) // 2] < 0.5 and max(latencies) < 1.5, latencies
        if time.monotonic() - opened < 1.8:
            assert not closed_at, "slow connections were closed before the idle timeout"

        # --idle-timeout 2 closes every connection that has not sent a complete request in 2 s, however
        # slowly it keeps sending.
        wait_until(lambda: len(closed_at) == len(slow), timeout=10, interval=0.2,
                   message="the server closing every trickling connection")
        assert max(closed_at.values()) - opened < 8
        assert min(progress.values()) > 3, "the slow connections did not really trickle"
        # And the connections that went quiet halfway through a request.
        import select
        pending = set(idle)
        deadline = time.monotonic() + 5
        while pending and time.monotonic() < deadline:
            readable, _, _ = select.select(list(pending)[:500], [], [], 0.5)
            for s in readable:
                try:
                    if s.recv(65536) == b"":
                        pending.discard(s)
                except OSError:
                    pending.discard(s)
        assert not pending, f"{len(pending)} idle connections were not closed"
    finally:
        stop.set()
        t.join()
        for s in slow + idle:
            s.close()
    r = server.click(url)
    assert r.status == 302
    assert server.proc.poll() is None


def test_idle_timeout_spares_busy_keep_alive_connections_and_slow_complete_requests(env, start_server):
    url = tracked(env, ["https://example.com/busy"], "busy@example.com")[0]
    server = start_server(env, ["--idle-timeout", "2"])
    with RawHTTP(server.port) as c:  # one connection, a request every 0.2 s for 4 s: never idle
        started, n = time.monotonic(), 0
        while time.monotonic() - started < 4:
            assert c.request("GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA)]).status == 302
            n += 1
            time.sleep(0.2)
        assert n >= 15
    request = build_request("GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA)])
    step = len(request) // 8 + 1
    with RawHTTP(server.port) as c:  # each request sent in pieces over 1.2 s, three times in a row
        for _ in range(3):
            for i in range(0, len(request), step):
                c.send(request[i:i + step])
                time.sleep(0.15)
            assert c.read_response().status == 302
    assert len(env.wait_rows(n + 3)) == n + 3


def test_oversized_headers_get_400_or_431_and_the_server_keeps_serving(env, server):
    url = tracked(env, ["https://example.com/big"], "big@example.com")[0]
    target = target_of(url)
    # Under the cap: served.
    r = http(server.port, "GET", target, DOMAIN, [("User-Agent", BROWSER_UA), ("X-Fill", "f" * 6000)])
    assert r.status == 302
    cases = {
        "one 9 KiB header": [("X-Big", "a" * 9000)],
        "many headers, 10 KiB in all": [(f"X-Part-{i}", "b" * 120) for i in range(80)],
        "a 64 KiB header": [("Cookie", "c" * 65536)],
    }
    for name, headers in cases.items():
        with RawHTTP(server.port) as c:
            try:
                c.send(build_request("GET", target, DOMAIN, headers))
            except OSError:
                pass  # the server may answer and close before it has read everything
            r = c.read_response()
            assert r.status in (400, 431), (name, r.status)
            assert r.header("location") is None
        assert server.click(url).status == 302, name
    with RawHTTP(server.port) as c:
        c.send(build_request("GET", target + "&pad=" + "p" * 9000, DOMAIN))
        r = c.read_response()
        assert r.status in (400, 414, 431), r.status
    assert server.proc.poll() is None
    r = server.click(url)
    assert (r.status, r.header("location")) == (302, b"https://example.com/big")
    assert len(env.wait_rows(5)) == 5  # the click under the cap, one after each refusal, the last


def test_connection_cap_and_header_cap_flags(env, start_server):
    url = tracked(env, ["https://example.com/cap"], "cap@example.com")[0]
    server = start_server(env, ["--max-connections", "4", "--idle-timeout", "2", "--max-header-bytes", "2048"])
    r = http(server.port, "GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA), ("X-Fill", "f" * 1500)])
    assert r.status == 302
    r = http(server.port, "GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA), ("X-Fill", "f" * 3000)])
    assert r.status in (400, 431)

    # Four idle connections hold every slot: a fifth client waits until the idle timeout frees one.
    idle = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /c/")
        idle.append(s)
    time.sleep(0.3)
    t0 = time.monotonic()
    r = http(server.port, "GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA)], timeout=10)
    waited = time.monotonic() - t0
    for s in idle:
        s.close()
    assert r.status == 302
    assert 1.0 <= waited <= 5, waited
    assert http(server.port, "GET", target_of(url), DOMAIN, [("User-Agent", BROWSER_UA)], timeout=3).status == 302


# ---------------------------------------------------------------------------------------------------------------
# End to end: a message through the filter, its links and pixel fetched, the events read back with `report`


def report(env: Env, *args: str) -> subprocess.CompletedProcess:
    return run([str(SERVER_BIN), "report", "--config", str(env.config), "--data-directory", str(env.data), *args])


def test_end_to_end_message_clicks_opens_and_report(env, server):
    mid1, mid2 = "e2e-1@example.com", "e2e-2@example.com"
    out1 = filter_message(env.config, MESSAGE.format(mid=mid1).encode())
    out2 = filter_message(env.config, MESSAGE.format(mid=mid2).encode())
    links1, links2 = click_urls(out1), click_urls(out2)
    pixel1, pixel2 = open_urls(out1)[0], open_urls(out2)[0]
    sale, books = "https://example.com/sale?utm=1&x=%41", "https://bücher.de/ü"

    for u, ua in ((pixel1, APPLE_MAIL), (pixel1, APPLE_MAIL), (pixel1, "Mozilla/5.0"), (pixel2, IPHONE)):
        assert server.click(u, ua=ua).body == GIF
    for u, ua in ((links1[0], CHROME), (links1[0], CHROME), (links1[1], FIREFOX), (links2[0], "curl/8.5.0")):
        assert server.click(u, ua=ua).status == 302
    # A news-set message, to see per-set reports.
    news = tracked(env, ["https://example.com/news"], "e2e-news@example.com", configuration_set="news")[0]
    assert server.click(news).status == 302
    assert len(env.wait_rows(9)) == 9

    p = report(env, "--format", "json")
    doc = json.loads(p.stdout)
    assert doc == {"ConfigurationSets": [
        {"ConfigurationSetName": "marketing", "Opens": 4, "UniqueOpens": 2, "Clicks": 4, "UniqueClicks": 3,
         "MachineOpens": 1, "MachineClicks": 1,
         "TopLinks": [{"Link": sale, "Clicks": 3}, {"Link": books, "Clicks": 1}]},
        {"ConfigurationSetName": "news", "Opens": 0, "UniqueOpens": 0, "Clicks": 1, "UniqueClicks": 1,
         "MachineOpens": 0, "MachineClicks": 0, "TopLinks": [{"Link": "https://example.com/news", "Clicks": 1}]},
    ]}
    only = json.loads(report(env, "--format", "json", "--configuration-set", "news").stdout)
    assert [s["ConfigurationSetName"] for s in only["ConfigurationSets"]] == ["news"]
    future = json.loads(report(env, "--format", "json", "--since", "2999-01-01").stdout)
    assert all(s["Opens"] == 0 and s["Clicks"] == 0 for s in future["ConfigurationSets"])
    past = json.loads(report(env, "--format", "json", "--since", "2000-01-01T00:00:00Z").stdout)
    assert past == doc

    text = report(env).stdout.decode()
    marketing = text.split("news\n")[0]
    for expected in ("marketing", "messages opened  2", "opens            4 (1 flagged as machine)",
                     "unique clicks    3", "clicks           4 (1 flagged as machine)", f"3  {sale}", f"1  {books}"):
        assert expected in marketing, (expected, text)
    assert report(env, "--format", "text").stdout.decode() == text
    bad = run([str(SERVER_BIN), "report", "--config", str(env.config), "--data-directory", str(env.data),
               "--format", "xml"], check=False)
    assert bad.returncode == 64


# ---------------------------------------------------------------------------------------------------------------
# The command line

# The flags issue 17 names, and those the server has added since; the help must list each.
SERVE_FLAGS = ["config", "data-directory", "listen", "admin-listen", "max-header-bytes", "idle-timeout",
               "max-connections", "event-ack-timeout", "event-queue-limit", "sqlite-synchronous", "shutdown-grace",
               "spool-limit-bytes"]
REPORT_FLAGS = ["config", "data-directory", "configuration-set", "since", "format"]
FLAG_SAMPLES = {"config": "/nonexistent", "data-directory": "/tmp", "listen": "127.0.0.1:0", "admin-listen": "127.0.0.1:0",
                "sqlite-synchronous": "full", "configuration-set": "x", "since": "2026-01-01", "format": "json"}


def test_help_mentions_every_flag():
    p = run([str(SERVER_BIN), "--help"])
    text = p.stdout.decode()
    assert "linktrack-server serve" in text and "linktrack-server report" in text
    for flag in SERVE_FLAGS + REPORT_FLAGS + ["version", "help"]:
        assert f"--{flag}" in text, flag
    listed = set(re.findall(r"(?m)^\s+--([a-z-]+)", text))
    assert set(SERVE_FLAGS + REPORT_FLAGS) <= listed
    # Every flag the help lists is one a command accepts (a flag unknown to a command exits 64).
    accepted = set()
    for flag in listed:
        for command in ("serve", "report"):
            q = run([str(SERVER_BIN), command, f"--{flag}", FLAG_SAMPLES.get(flag, "5"), "--help"], check=False)
            if q.returncode == 0:
                accepted.add(flag)
            else:
                assert q.returncode == 64, (command, flag, q.stderr)
    assert accepted == listed, listed - accepted
    for command in ("serve", "report"):
        for flag in set(SERVE_FLAGS) if command == "serve" else set(REPORT_FLAGS):
            q = run([str(SERVER_BIN), command, f"--{flag}", FLAG_SAMPLES.get(flag, "5"), "--help"], check=False)
            assert q.returncode == 0, (command, flag, q.stderr)
        q = run([str(SERVER_BIN), command, "--no-such-flag", "--help"], check=False)
        assert q.returncode == 64
    assert run([str(SERVER_BIN), "serve", "--help"]).stdout.decode() == text


def test_version():
    p = run([str(SERVER_BIN), "--version"])
    assert re.fullmatch(rb"linktrack-server \d+\.\d+\.\d+\n", p.stdout), p.stdout
    assert p.stderr == b""
