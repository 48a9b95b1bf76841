"""The deployment files under Server/deploy run as documented: nginx terminates TLS in front of
linktrack-server using Server/deploy/nginx-linktrack.conf unchanged (only its certificate paths,
ports and upstream address are substituted), clicks over https reach their exact destination, and
the client address comes from X-Forwarded-For because nginx is a trusted proxy."""
import html
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SERVER_DIR = HERE.parent.parent
SERVER_BIN = os.environ.get("LINKTRACK_SERVER_BIN", str(SERVER_DIR / ".build/debug/linktrack-server"))
FILTER_BIN = os.environ.get("LINKTRACK_BIN", str(SERVER_DIR / ".build/debug/linktrack"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(config, data):
    log = open(data.parent / "server.log", "w+")
    proc = subprocess.Popen([SERVER_BIN, "serve", "--config", str(config), "--data-directory", str(data),
                             "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        log.seek(0)
        m = re.search(r"listening public=127\.0\.0\.1:(\d+) admin=127\.0\.0\.1:(\d+)", log.read())
        if m:
            return proc, int(m.group(1)), int(m.group(2))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    log.seek(0)
    raise RuntimeError("server did not start: " + log.read())


@pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed (apt-get install nginx-light)")
def test_https_click_through_nginx_snippet(tmp_path):
    key = subprocess.run([FILTER_BIN, "keygen"], check=True, capture_output=True, text=True).stdout.strip()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "ConfigurationSets": [{"ConfigurationSetName": "marketing",
                               "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}}],
        "DefaultConfigurationSet": "marketing",
        "SigningKeys": [json.loads(key)],
        "TrustedProxies": ["127.0.0.1"],
    }))
    data = tmp_path / "data"
    server, public_port, _ = start_server(config, data)
    nginx = None
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=links.example.com",
                        "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                       check=True, capture_output=True)
        https_port, http_port = free_port(), free_port()
        snippet = (SERVER_DIR / "deploy/nginx-linktrack.conf").read_text()
        snippet = (snippet.replace("/etc/linktrack/tls/fullchain.pem", str(tmp_path / "cert.pem"))
                   .replace("/etc/linktrack/tls/privkey.pem", str(tmp_path / "key.pem"))
                   .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
                   .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                   .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{public_port};"))
        (tmp_path / "linktrack.conf").write_text(snippet)
        (tmp_path / "nginx.conf").write_text(f"""
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/linktrack.conf;
}}
""")
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)

        destination = "https://example.org/landing?a=1&b=%C3%A9;c#part"
        page = f'<html><body><a href="{html.escape(destination)}">x</a></body></html>'
        out = subprocess.run([FILTER_BIN, "filter", "--config", str(config), "--input", "html", "--message-id", "m1@example.com"],
                             input=page, check=True, capture_output=True, text=True).stdout
        click = html.unescape(re.search(r'href="([^"]+)"', out).group(1))
        pixel = html.unescape(re.search(r'src="([^"]+)"', out).group(1))
        assert click.startswith("https://links.example.com/c/")
        resolve = f"links.example.com:{https_port}:127.0.0.1"

        def curl(url, *extra):
            url = url.replace("https://links.example.com/", f"https://links.example.com:{https_port}/")
            r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-D", "-", "--interface", "127.0.0.3",
                                "--resolve", resolve, "-A", "Mozilla/5.0 (X11; Linux) Firefox/120", *extra, url],
                               check=True, capture_output=True)
            return r.stdout.decode("utf-8", "surrogateescape")

        headers = curl(click)
        assert headers.startswith("HTTP/1.1 302"), headers
        location = re.search(r"(?im)^location: (.*?)\r?$", headers).group(1)
        assert location == destination
        assert "no-store, private" in headers.lower()
        assert curl(pixel).startswith("HTTP/1.1 200")
        # A tampered token is refused through the proxy as well.
        assert curl(click.replace("example.org", "example.net")).startswith("HTTP/1.1 404")

        # The events carry the reader's address as nginx saw it (127.0.0.3), not nginx's.
        deadline = time.time() + 5
        rows = []
        while time.time() < deadline:
            db = sqlite3.connect(data / "events.sqlite")
            rows = db.execute("SELECT event_type, ip_address, link FROM events ORDER BY event_type").fetchall()
            db.close()
            if len(rows) == 2:
                break
            time.sleep(0.1)
        assert rows == [("Click", "127.0.0.3", destination), ("Open", "127.0.0.3", None)]
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait(5)
        server.terminate()
        server.wait(30)
