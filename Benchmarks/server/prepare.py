#!/usr/bin/env python3
"""Inputs of the server benchmark (Benchmarks/server/run.sh), in WORK_DIR:

- config-jsonl.json and config-sqlite.json: set `marketing` (links.example.com, OPEN and CLICK) with a
  fresh signing key from `linktrack keygen`; the first writes JSON Lines to WORK_DIR/events.jsonl,
  the second uses the embedded SQLite default (DATA_DIR/events.sqlite); config-none.json records
  opens only, so that clicks are answered without an event (the server's work apart from events);
- paths.txt: the path and query of MESSAGES x LINKS distinct click URLs, as `linktrack filter
  --input html` wrote them into MESSAGES generated pages (one message id per page, LINKS distinct
  destinations per page, of the lengths and query strings newsletters carry).

usage: prepare.py LINKTRACK_BINARY WORK_DIR [MESSAGES [LINKS]]
"""
import html
import json
import os
import random
import re
import subprocess
import sys

DOMAIN = "links.example.com"


def main():
    binary, work = sys.argv[1], sys.argv[2]
    messages = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    links = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    os.makedirs(work, exist_ok=True)
    key = json.loads(subprocess.run([binary, "keygen", "--key-id", "bench"], check=True,
                                    capture_output=True, text=True).stdout)

    def config(destination):
        entry = {"Name": "t", "Enabled": True, "MatchingEventTypes": ["OPEN", "CLICK"]}
        if destination is not None:
            entry["LinkTrackDestination"] = destination
        return {
            "ConfigurationSets": [{
                "ConfigurationSetName": "marketing",
                "TrackingOptions": {"CustomRedirectDomain": DOMAIN, "HttpsPolicy": "REQUIRE"},
                "EventDestinations": [entry],
            }],
            "DefaultConfigurationSet": "marketing",
            "SigningKeys": [key],
        }

    with open(os.path.join(work, "config-jsonl.json"), "w") as f:
        json.dump(config({"Type": "JSONLines", "Path": os.path.join(work, "events.jsonl")}), f, indent=1)
    with open(os.path.join(work, "config-sqlite.json"), "w") as f:
        json.dump(config({"Type": "SQLite"}), f, indent=1)
    # Clicks recorded nowhere (the one destination takes opens only): the server's work without events.
    none = config({"Type": "JSONLines", "Path": os.path.join(work, "events-none.jsonl")})
    none["ConfigurationSets"][0]["EventDestinations"][0]["MatchingEventTypes"] = ["OPEN"]
    with open(os.path.join(work, "config-none.json"), "w") as f:
        json.dump(none, f, indent=1)

    rng = random.Random(17)
    words = ["spring", "sale", "shoes", "jackets", "news", "article", "offer", "guide", "story", "update"]
    paths = []
    for m in range(messages):
        anchors = []
        for i in range(links):
            path = "/".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
            url = f"https://shop{m % 7}.example.com/{path}/{m}-{i}?utm_source=newsletter&utm_medium=email&utm_campaign=c{m}&item={i}"
            anchors.append(f'<p><a href="{html.escape(url)}">Link {i} of message {m}</a></p>')
        page = "<!DOCTYPE html><html><head><title>Bench</title></head><body>\n" + "\n".join(anchors) + "\n</body></html>\n"
        out = subprocess.run([binary, "filter", "--config", os.path.join(work, "config-sqlite.json"), "--input", "html",
                              "--message-id", f"<bench-{m}@example.com>"],
                             input=page.encode(), check=True, capture_output=True).stdout.decode()
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', out)]
        clicks = [h for h in hrefs if h.startswith(f"https://{DOMAIN}/c/")]
        if len(clicks) != links:
            sys.exit(f"prepare.py: message {m}: {len(clicks)} click URLs in the filter's output, expected {links}")
        paths.extend(h[len(f"https://{DOMAIN}"):] for h in clicks)
    if len(set(paths)) != len(paths):
        sys.exit("prepare.py: the click URLs are not distinct")
    with open(os.path.join(work, "paths.txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
    print(f"prepare.py: {len(paths)} click URLs from {messages} messages, "
          f"{min(map(len, paths))}-{max(map(len, paths))} bytes of path and query", file=sys.stderr)


if __name__ == "__main__":
    main()
