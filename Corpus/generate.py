#!/usr/bin/env python3
"""Generates the INPUT side of the LinkTrack regression corpus.

Every message and document below is invented for this corpus. Domains are
example.com / example.net / example.org only. Run from anywhere:

    python3 Corpus/generate.py

It (re)writes, for each case, `input.eml` or `input.html`, `case.json` and an
optional `config.json`. It never touches recorded expected outputs.
"""

import base64
import hashlib
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
HTML_ARGS = ["--message-id", "<fixed@example.com>"]
SEEN = set()

CRLF = "\r\n"
LF = "\n"


# ---------------------------------------------------------------- helpers

def B(s, charset="utf-8"):
    return s if isinstance(s, bytes) else s.encode(charset)


def eolify(data, eol):
    """data uses bare \\n; convert to eol (None = leave as is)."""
    data = B(data)
    if eol is None or eol == LF:
        return data
    assert b"\r" not in data, "eolify input must not already contain CR"
    return data.replace(b"\n", eol.encode("ascii"))


def write_case(name, data, description, kind="eml", args=None, exit_status=0,
               config=None):
    assert name not in SEEN, name
    assert name.split("-")[0] in ("html", "mime", "enc", "charset", "policy", "exit", "rules", "text"), name
    SEEN.add(name)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for stale in ("input.eml", "input.html", "config.json"):
        p = os.path.join(d, stale)
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(d, "input." + kind), "wb") as f:
        f.write(B(data))
    if kind == "html":
        args = HTML_ARGS + list(args or [])
    meta = {"description": description}
    if args:
        meta["args"] = list(args)
    meta["exitStatus"] = exit_status
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")


def prand(n, seed):
    """Deterministic pseudo-random bytes."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (seed, i)).encode()).digest()
        i += 1
    return out[:n]


def b64(data, width=76):
    s = base64.b64encode(B(data)).decode("ascii")
    return "\n".join(s[i:i + width] for i in range(0, len(s), width)) + "\n"


def ew(text, charset="UTF-8"):
    """RFC 2047 B encoded-word."""
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def qp(data):
    """Quoted-printable encode bytes with \\n line breaks (soft breaks at 76)."""
    data = B(data)
    out_lines = []
    for raw in data.split(b"\n"):
        enc = ""
        for i, c in enumerate(raw):
            ch = chr(c)
            last = i == len(raw) - 1
            if c == 0x3D or c > 0x7E or (c < 0x20 and c != 0x09) or (last and c in (0x20, 0x09)):
                ch = "=%02X" % c
            enc += ch
        line = ""
        pieces = []
        for tok in _qp_tokens(enc):
            if len(line) + len(tok) > 75:
                pieces.append(line + "=")
                line = ""
            line += tok
        pieces.append(line)
        out_lines.extend(pieces)
    return "\n".join(out_lines)


def _qp_tokens(enc):
    i = 0
    while i < len(enc):
        if enc[i] == "=":
            yield enc[i:i + 3]
            i += 3
        else:
            yield enc[i]
            i += 1


def png(w=12, h=12, seed="png"):
    """A small but valid PNG image."""
    rnd = prand(w * h * 3, seed)
    raw = b""
    for y in range(h):
        raw += b"\x00" + rnd[y * w * 3:(y + 1) * w * 3]

    def chunk(t, d):
        c = t + d
        return struct.pack(">I", len(d)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pdf():
    """A tiny PDF that itself contains a URI action (must never be rewritten)."""
    body = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
            b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100]"
            b" /Annots [4 0 R] >> endobj\n"
            b"4 0 obj << /Type /Annot /Subtype /Link /Rect [0 0 200 100]"
            b" /A << /S /URI /URI (https://billing.example.com/invoice/20931) >> >> endobj\n")
    body += b"% padding " + prand(160, "pdf").hex().encode() + b"\n"
    body += b"trailer << /Root 1 0 R >>\n%%EOF\n"
    return body


def headers(frm, to, subject, date, msgid=None, extra=(), mime=True):
    h = ["From: " + frm, "To: " + to, "Subject: " + subject, "Date: " + date]
    if msgid:
        h.append("Message-ID: " + msgid)
    if mime:
        h.append("MIME-Version: 1.0")
    h.extend(extra)
    return "\n".join(h) + "\n"


def part(hdrs, body):
    """A body part: header block, blank line, body. Returns bytes (\\n)."""
    body = B(body)
    if not body.endswith(b"\n"):
        body += b"\n"
    return B(hdrs.rstrip("\n") + "\n\n") + body


def multipart(boundary, parts, preamble=None, epilogue=None, close=True):
    out = b""
    if preamble is not None:
        out += B(preamble)
        if not out.endswith(b"\n"):
            out += b"\n"
    for p in parts:
        out += b"--" + B(boundary) + b"\n" + B(p)
        if not out.endswith(b"\n"):
            out += b"\n"
    if close:
        out += b"--" + B(boundary) + b"--\n"
        if epilogue is not None:
            out += B(epilogue)
    return out


def message(hdrs, body):
    return B(hdrs.rstrip("\n") + "\n\n") + B(body)


def html_part(html, charset="utf-8", cte="7bit", extra=""):
    h = 'Content-Type: text/html; charset="%s"\nContent-Transfer-Encoding: %s' % (charset, cte)
    if extra:
        h += "\n" + extra
    return part(h, html)


def text_part(text, charset="utf-8", cte="7bit"):
    return part('Content-Type: text/plain; charset="%s"\nContent-Transfer-Encoding: %s'
                % (charset, cte), text)


# ---------------------------------------------------------------- HTML documents

RECEIPT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your Kestrel Cycles receipt</title>
<style>
  body { margin:0; padding:0; background:#f4f4f1; font-family: Helvetica, Arial, sans-serif; }
  .wrap { max-width:560px; margin:0 auto; background:#ffffff; }
  .muted { color:#777777; font-size:12px; }
</style>
</head>
<body>
<div class="wrap">
  <h1 style="font-size:20px;">Thanks for your order, Priya.</h1>
  <p>Order <strong>KC-48213</strong> was placed on 3 March and will leave our workshop within two days.</p>
  <table role="presentation" width="100%" cellpadding="6" cellspacing="0">
    <tr><td>Commuter bell, brass</td><td align="right">$14.00</td></tr>
    <tr><td>Rear rack, alloy</td><td align="right">$52.50</td></tr>
    <tr><td><strong>Total</strong></td><td align="right"><strong>$66.50</strong></td></tr>
  </table>
  <p><a href="https://shop.example.com/orders/KC-48213?utm_source=receipt&amp;utm_medium=email">View your order</a></p>
  <p>Questions? Reply to this email or visit <a href="https://help.example.com/contact">our help desk</a>.</p>
  <p class="muted">Kestrel Cycles, 12 Spoke Row, Exampleton.
  <a href="https://shop.example.com/account/email-preferences">Email preferences</a></p>
</div>
{{ses:openTracker}}
</body>
</html>
"""

NEWSLETTER = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>Orchard Lane Books - March shelf notes</title>
</head>
<body style="margin:0;padding:0;background-color:#eeeae2;">
<table width="100%" border="0" cellspacing="0" cellpadding="0" bgcolor="#eeeae2">
  <tr>
    <td align="center">
      <table width="600" border="0" cellspacing="0" cellpadding="0" bgcolor="#ffffff">
        <tr>
          <td style="padding:12px;font-size:11px;color:#888;" align="right">
            Trouble reading? <a href="https://news.example.org/view/march?u=5521" style="color:#888;">Open in your browser</a>
          </td>
        </tr>
        <tr>
          <td align="center"><a href="https://www.example.org/?src=nl"><img src="https://img.example.org/logo.png" width="180" height="40" alt="Orchard Lane Books" border="0" /></a></td>
        </tr>
        <tr>
          <td style="padding:20px;font-family:Georgia,serif;">
            <h2 style="margin:0 0 10px 0;">Shelf notes for March</h2>
            <p>Three quiet novels, one loud cookbook and a map of the harbour that we cannot stop unfolding.</p>
          </td>
        </tr>
        <tr>
          <td>
            <table width="100%" border="0" cellspacing="0" cellpadding="10">
              <tr>
                <td width="50%" valign="top"><a href="https://www.example.org/books/the-salt-clock"><img src="https://img.example.org/covers/salt-clock.jpg" width="270" alt="The Salt Clock" /></a><br />
                  <a href="https://www.example.org/books/the-salt-clock" style="font-weight:bold;">The Salt Clock</a></td>
                <td width="50%" valign="top"><a href="https://www.example.org/books/forty-soups"><img src="https://img.example.org/covers/forty-soups.jpg" width="270" alt="Forty Soups" /></a><br />
                  <a href="https://www.example.org/books/forty-soups" style="font-weight:bold;">Forty Soups</a></td>
              </tr>
            </table>
          </td>
        </tr>
        <tr>
          <td style="padding:20px;font-size:11px;color:#999;font-family:Arial,sans-serif;" align="center">
            You receive shelf notes because you joined at our counter.<br />
            <a href="https://news.example.org/unsubscribe?u=5521&amp;list=shelf">Unsubscribe</a> |
            <a href="https://news.example.org/preferences?u=5521">Preferences</a>
          </td>
        </tr>
      </table>
    </td>
  </tr>
</table>
</body>
</html>
"""

MSO_BUTTON = """<!DOCTYPE html>
<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
<meta charset="utf-8">
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
<title>Statement ready</title>
</head>
<body>
<p>Hello Tomasz, your February statement from Lumen Harbor Bank is ready.</p>
<div>
<!--[if mso]>
  <v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" href="https://bank.example.com/statements/2024-02?src=mso" style="height:44px;v-text-anchor:middle;width:220px;" arcsize="10%" strokecolor="#1e3650" fillcolor="#1e3650">
    <w:anchorlock/>
    <center style="color:#ffffff;font-family:sans-serif;font-size:14px;font-weight:bold;">View statement</center>
  </v:roundrect>
<![endif]-->
<!--[if !mso]><!-- -->
  <a href="https://bank.example.com/statements/2024-02?src=web" style="background-color:#1e3650;border-radius:4px;color:#ffffff;display:inline-block;font-family:sans-serif;font-size:14px;font-weight:bold;line-height:44px;text-align:center;text-decoration:none;width:220px;">View statement</a>
<!--<![endif]-->
</div>
<p>If the button does not work, copy this address: https://bank.example.com/statements/2024-02</p>
<p style="font-size:11px;color:#666">Lumen Harbor Bank will never ask for your password by email. <a href="https://bank.example.com/security">Security centre</a></p>
</body>
</html>
"""

BILL = """<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body>
<p>Dear customer,</p>
<p>Your Pinecrest Utilities bill for account 77-1042 is now available. Amount due: 81.20 by 28 March.</p>
<p><a href="https://my.example.net/bills/77-1042/latest">See your bill</a> &middot; <a href="https://my.example.net/autopay">Set up autopay</a></p>
<p>Pinecrest Utilities &mdash; <a href="https://www.example.net/">www.example.net</a></p>
</body>
</html>
"""


def simple_html(title, paragraphs, links, charset_meta="utf-8", tracker=False):
    lines = ["<!DOCTYPE html>", "<html>", "<head>"]
    if charset_meta:
        lines.append('<meta charset="%s">' % charset_meta)
    lines += ["<title>%s</title>" % title, "</head>", "<body>"]
    for p in paragraphs:
        lines.append("<p>%s</p>" % p)
    if links:
        lines.append("<ul>")
        for href, label in links:
            lines.append('  <li><a href="%s">%s</a></li>' % (href, label))
        lines.append("</ul>")
    if tracker:
        lines.append("{{ses:openTracker}}")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def plain_of(label):
    return ("%s\n\nThis message has an HTML version. Main link:\n"
            "https://www.example.com/plain-version?ref=text\n\n-- \nSent by an example sender\n" % label)


# ---------------------------------------------------------------- HTML cases

def html_cases():
    H = lambda name, doc, desc, **kw: write_case(name, doc, desc, kind="html", **kw)

    H("html-receipt-transactional", RECEIPT,
      "A typical transactional receipt: anchors with &amp; query strings are wrapped and the {{ses:openTracker}} placeholder becomes the open pixel.")
    H("html-newsletter-table-layout", NEWSLETTER,
      "A nested-table newsletter with an XHTML doctype, linked images, view-in-browser and unsubscribe links, and no placeholder so the pixel is inserted before </body>.")
    H("html-mso-vml-roundrect-button", MSO_BUTTON,
      "Outlook conditional comments: the VML v:roundrect href inside <!--[if mso]> and the anchor inside <!--[if !mso]><!-- --> are both handled consistently.")

    H("html-mso-downlevel-revealed-only", """<html><body>
<!--[if !mso]><!-- -->
<div class="hide-in-outlook"><a href="https://www.example.com/app/download?platform=any">Get the app</a></div>
<!--<![endif]-->
<!--[if mso | IE]><table role="presentation"><tr><td><![endif]-->
<a href="https://www.example.com/desktop">Desktop version</a>
<!--[if mso | IE]></td></tr></table><![endif]-->
<!--[if gte mso 9]>
<a href="https://www.example.com/outlook-only">Outlook-only link</a>
<![endif]-->
</body></html>
""", "Down-level-revealed <!--[if !mso]><!-- --> blocks and table-wrapping conditional comments, including a plain anchor that only Outlook renders.")

    H("html-open-tracker-placeholder-once", simple_html(
        "Welcome", ["Welcome to Bramblewood Tea, Ines. Your first box ships on Monday."],
        [("https://tea.example.com/box/first", "Track your box")], tracker=True),
      "A single {{ses:openTracker}} placeholder is replaced by the pixel and no second pixel is appended.")

    H("html-open-tracker-placeholder-twice", """<!DOCTYPE html>
<html><body>
<div>{{ses:openTracker}}</div>
<p>Your parcel from Kestrel Cycles is out for delivery.</p>
<p><a href="https://shop.example.com/track/88AQ2">Follow the courier</a></p>
<div>{{ses:openTracker}}</div>
</body></html>
""", "The {{ses:openTracker}} placeholder appears twice; guards what happens to the second occurrence.")

    H("html-open-tracker-placeholder-variants", """<html><body>
<p>Placeholder look-alikes that are not the placeholder:</p>
<p>{{ ses:openTracker }} {{SES:OPENTRACKER}} {ses:openTracker} {{ses:openTracker</p>
<p>A real one inside an attribute: <span title="{{ses:openTracker}}">hover</span></p>
<p><a href="https://www.example.com/">Home</a></p>
</body></html>
""", "Near-miss spellings of {{ses:openTracker}} stay; the one inside an attribute value is removed and does not get the pixel (it would not render there), so the pixel goes before </body>.")

    H("html-ses-no-track", """<html><body>
<p><a href="https://www.example.com/tracked">Tracked link</a></p>
<p><a ses:no-track href="https://www.example.com/untracked-1">Untracked (bare attribute)</a></p>
<p><a href="https://www.example.com/untracked-2" ses:no-track="">Untracked (empty value, after href)</a></p>
<p><a SES:NO-TRACK href="https://www.example.com/untracked-3">Untracked (uppercase)</a></p>
<p><a ses:no-track="true" href="https://www.example.com/untracked-4">Untracked (valued)</a></p>
<p><a data-ses:no-track href="https://www.example.com/lookalike">Look-alike attribute name</a></p>
</body></html>
""", "ses:no-track in its bare, empty, uppercase and valued forms suppresses wrapping, while a look-alike attribute name does not.")

    H("html-ses-tags", """<html><body>
<p><a ses:tags="campaign:spring;variant:b;" href="https://shop.example.com/spring">Spring range</a></p>
<p><a href="https://shop.example.com/spring/bells" ses:tags="campaign:spring;product:bell">Bells</a></p>
<p><a ses:tags='placement:footer;' href="https://shop.example.com/about">About</a></p>
<p><a ses:tags="campaign:spring;variant:b;" ses:no-track href="https://shop.example.com/not-tracked">Tagged but not tracked</a></p>
</body></html>
""", "ses:tags on anchors (with and without trailing semicolon, single-quoted, combined with ses:no-track) becomes link tags and the attribute is removed.")

    H("html-ses-tags-malformed", """<html><body>
<p><a ses:tags="campaign" href="https://www.example.com/1">no colon</a></p>
<p><a ses:tags=";;;" href="https://www.example.com/2">only separators</a></p>
<p><a ses:tags="campaign:spring:extra;variant:" href="https://www.example.com/3">extra colon and empty value</a></p>
<p><a ses:tags=":orphan;bad name:x;ok:y" href="https://www.example.com/4">empty name and space in name</a></p>
<p><a ses:tags="" href="https://www.example.com/5">empty</a></p>
<p><a ses:tags="k\u00e9y:v\u00e4lue;x:&amp;y" href="https://www.example.com/6">non-ASCII and entity</a></p>
<p><a ses:tags="campaign:spring" ses:tags="campaign:autumn" href="https://www.example.com/7">duplicated attribute</a></p>
</body></html>
""", "Malformed ses:tags values (missing colon, empty names or values, extra colons, non-ASCII, duplicates) never crash the rewriter.")

    H("html-href-entities", """<html><body>
<p><a href="https://shop.example.com/search?q=tea&amp;sort=new">named &amp;amp;</a></p>
<p><a href="https://shop.example.com/search?q=tea&#38;sort=old">decimal &amp;#38;</a></p>
<p><a href="https://shop.example.com/search?q=tea&#x26;sort=price">hex &amp;#x26;</a></p>
<p><a href="https://shop.example.com/stores?city=lyon&region=1&copy=2&not=3">bare &amp;region= that must stay</a></p>
<p><a href="https://shop.example.com/say?msg=&quot;hello&quot;">&amp;quot; in href</a></p>
<p><a href="https://shop.example.com/twice?a=1&amp;amp;b=2">double-encoded</a></p>
<p><a href="https:&#x2F;&#x2F;shop.example.com&#47;encoded-slashes">encoded slashes</a></p>
<p><a href="https://shop.example.com/p?x=1&ampy=2&lt=3">legacy entity prefixes</a></p>
</body></html>
""", "Character references inside hrefs are decoded before wrapping while bare &region=1-style text (legacy entity prefixes before '=') stays literal.")

    H("html-attribute-quoting", """<html><body>
<p><a href=https://www.example.com/unquoted?a=1&amp;b=2>unquoted</a></p>
<p><a href='https://www.example.com/single?name="quoted"'>single-quoted containing double quotes</a></p>
<p><a href="https://www.example.com/double?it's=fine">double-quoted containing an apostrophe</a></p>
<p><a class=btn href=https://www.example.com/unquoted-end>unquoted then &gt;</a></p>
<p><a href=https://www.example.com/slash/>trailing slash unquoted</a></p>
<p><a target=_blank href = 'https://www.example.com/spaces-around-equals' >spaces around =</a></p>
</body></html>
""", "Unquoted, single-quoted and double-quoted href values (with quotes of the other kind inside) are rewritten without breaking the markup.")

    H("html-uppercase-tags", """<HTML>
<HEAD><TITLE>Account notice</TITLE></HEAD>
<BODY BGCOLOR="#FFFFFF">
<P>Your account at Pinecrest Utilities changed.</P>
<P><A HREF="https://my.example.net/activity">Review activity</A></P>
<P><a HrEf="https://my.example.net/mixed-case">Mixed case attribute</a></P>
<TABLE><TR><TD><A TARGET="_blank" HREF='https://my.example.net/help'>Help</A></TD></TR></TABLE>
</BODY>
</HTML>
""", "Uppercase and mixed-case tag and attribute names (<A HREF>, HrEf, </BODY>) are recognised.")

    H("html-template-placeholders", """<html><body>
<p><a href="{{url}}">double-brace whole URL</a></p>
<p><a href="https://www.example.com/{{path}}?u={{ user_id }}">double-brace inside URL</a></p>
<p><a href="*|UNSUB|*">merge-tag unsubscribe</a> <a href="*|ARCHIVE|*">archive</a></p>
<p><a href="%%view_url%%">percent-style view URL</a></p>
<p><a href="https://www.example.com/p?id=%%=v(@productId)=%%">percent-equals expression</a></p>
<p><a href="$unsubscribe_link$">dollar token</a> <a href="[[link]]">bracket token</a></p>
<p><a href="{% raw %}https://www.example.com/raw{% endraw %}">block tag</a></p>
</body></html>
""", "Unrendered template placeholders in hrefs ({{url}}, *|UNSUB|*, %%view_url%% and similar) are left alone or handled without corruption.")

    H("html-non-http-schemes", """<html><body>
<a name="top"></a>
<p><a href="mailto:support@example.com?subject=Order%20KC-48213">Email support</a></p>
<p><a href="tel:+15555550123">Call us</a> or <a href="sms:+15555550123?body=STOP">text us</a></p>
<p><a href="javascript:alert(1)">script link</a> <a href="data:text/html;base64,PGI+aGk8L2I+">data link</a></p>
<p><a href="#top">Back to top</a> <a href="/relative/path">relative</a> <a href="../up">dot-dot</a> <a href="//www.example.com/protocol-relative">protocol-relative</a></p>
<p><a href="ftp://files.example.com/pub/readme.txt">ftp</a> <a href="webcal://cal.example.com/events.ics">webcal</a></p>
<p><a href="https://www.example.com/only-this-one-is-http">the only web link</a></p>
</body></html>
""", "mailto:, tel:, sms:, javascript:, data:, fragment, relative, protocol-relative, ftp: and webcal: links are not wrapped; only the https link is.")

    H("html-already-tracked-links", """<html><body>
<p><a href="https://links.example.com/c/abc123/def456">already a click URL on the redirect domain</a></p>
<p><a href="https://LINKS.EXAMPLE.COM/CL0/https:%2F%2Fwww.example.com%2F/1/xyz">uppercase redirect domain</a></p>
<p><a href="http://links.example.com/o/abc">http on the redirect domain</a></p>
<p><a href="https://links.example.com.evil.example.net/c/x">suffix look-alike</a></p>
<p><a href="https://www.example.com/">normal</a></p>
<img src="https://links.example.com/o/existing-pixel.gif" width="1" height="1" alt="">
</body></html>
""", "Links that already point at the configured redirect domain are not double-wrapped, while look-alike hosts are treated as ordinary links.")

    H("html-image-map-area", """<html><body>
<img src="https://img.example.com/map.png" usemap="#storemap" width="400" height="200" alt="Store map">
<map name="storemap">
  <area shape="rect" coords="0,0,200,200" href="https://www.example.com/stores/north" alt="North">
  <area shape="rect" coords="200,0,400,200" HREF="https://www.example.com/stores/south" alt="South">
  <area shape="default" nohref alt="nothing">
</map>
</body></html>
""", "<area href> inside an image map is rewritten like an anchor; an area with nohref is untouched.")

    H("html-links-in-head-and-title", """<!DOCTYPE html>
<html>
<head>
<title>See https://www.example.com/title-url and <a href="https://www.example.com/in-title">this</a></title>
<link rel="stylesheet" href="https://cdn.example.com/mail.css">
<link rel="canonical" href="https://www.example.com/canonical">
<base href="https://www.example.com/base/">
<meta property="og:url" content="https://www.example.com/og">
</head>
<body>
<p><a href="page.html">relative to base</a> <a href="https://www.example.com/body-link">body link</a></p>
</body>
</html>
""", "URLs in <head> (<link href>, <base href>, <meta content>) and markup inside <title> are not rewritten.")

    H("html-links-in-raw-text-elements", """<html>
<head>
<style>
  @import url("https://cdn.example.com/fonts.css");
  .hero { background: url(https://img.example.com/hero.jpg); }
  /* <a href="https://www.example.com/in-style-comment">x</a> */
</style>
<script>
  var tpl = '<a href="https://www.example.com/in-script">x</a>';
  if (1 < 2 && 3 > 2) { document.title = "</scr" + "ipt>"; }
</script>
</head>
<body>
<textarea name="note"><a href="https://www.example.com/in-textarea">not a link</a></textarea>
<noscript><a href="https://www.example.com/in-noscript">noscript link</a></noscript>
<xmp><a href="https://www.example.com/in-xmp">xmp</a></xmp>
<p><a href="https://www.example.com/real">the real link</a></p>
</body>
</html>
""", "Anchor-like text inside <style>, <script>, <textarea> and <xmp> is not rewritten; only real anchors are.")

    H("html-links-in-comments", """<html><body>
<!-- <a href="https://www.example.com/commented-out">old promo</a> -->
<!-- multi
     line <a href="https://www.example.com/commented-2">x</a>
-->
<!---->
<!-- a -- b <a href="https://www.example.com/double-dash">x</a> -->
<!--> <a href="https://www.example.com/after-abrupt-comment">live after <!--></a>
<!---> <a href="https://www.example.com/after-abrupt-comment-2">live after <!---></a>
<!--!--><a href="https://www.example.com/after-bang">live after <!--!--></a>
<p><a href="https://www.example.com/live">live</a></p>
</body></html>
""", "Anchors inside ordinary comments stay untouched, while the abrupt comments <!--> and <!---> end immediately and leave the following anchors live.")

    H("html-no-body-close", """<html>
<head><title>No body close</title></head>
<body>
<p>Your Bramblewood Tea subscription renews next week.</p>
<p><a href="https://tea.example.com/subscription">Manage subscription</a></p>
""", "A document without </body> or </html> still gets its links wrapped and a pixel appended somewhere sensible.")

    H("html-fragment-only", """<p>Hi Sam,</p>
<p>Here is the <a href="https://docs.example.com/shared/q1-plan">Q1 plan</a> you asked for.</p>
<p>-- Ana</p>""", "A bare HTML fragment with no <html>, <head> or <body> and no trailing newline.")

    H("html-multiple-body-close", """<html><body>
<p>First document <a href="https://www.example.com/first">first</a></p>
</body></html>
<html><body>
<p>Second document appended by a broken template <a href="https://www.example.com/second">second</a></p>
</body></html>
""", "Two </body> tags: guards where the single open pixel is placed.")

    H("html-body-close-in-comment-and-script", """<html><head>
<script>var closing = "</body>"; var also = '</BODY>';</script>
</head><body>
<!-- footer moved below </body> -->
<p><a href="https://www.example.com/after-fake-closers">link after fake closers</a></p>
<textarea></body></textarea>
</body></html>
""", "</body> appearing inside a comment, a script string and a textarea is not mistaken for the real one when inserting the pixel.")

    H("html-unterminated-comment", """<html><body>
<p><a href="https://www.example.com/before-comment">before</a></p>
<!-- footer <a href="https://www.example.com/inside-unterminated">inside</a>
</body></html>
""", "An unterminated comment at the end swallows the rest of the document, including </body>; no crash and no rewriting inside it.")

    H("html-unterminated-tag", """<html><body>
<p><a href="https://www.example.com/complete">complete</a></p>
<a href="https://www.example.com/never-closed""",
      "The document ends in the middle of a tag (an unterminated quoted href); no crash and no out-of-bounds read.")

    H("html-unterminated-unquoted-attr", """<html><body><p>Tail</p><a class=x href=https://www.example.com/cut""",
      "The document ends inside an unquoted attribute value.")

    H("html-nul-bytes", b"""<html><body>
<p>before\x00after</p>
<p><a href="https://www.example.com/a\x00b">NUL inside href</a></p>
<p><a\x00 href="https://www.example.com/c">NUL after tag name</a></p>
<p><a href="https://www.example.com/clean">clean</a></p>
\x00</body></html>
""", "NUL bytes in text, in an href, in a tag and before </body> are preserved or handled without truncating the document.")

    H("html-empty-document", b"", "An empty (zero-byte) HTML document.")
    H("html-whitespace-only", b"  \n\t\r\n   \n", "A document containing only whitespace (spaces, tabs, LF and CRLF).")

    H("html-attributes-split-across-lines", """<html><body>
<a
   class="button"
   href="https://www.example.com/split-1"
   target="_blank"
>split across lines</a>
<a href
   =
   "https://www.example.com/split-2">equals on its own line</a>
<a\thref=\t"https://www.example.com/tabbed"\t>tabs</a>
</body></html>
""", "Attributes spread across several lines, with whitespace around '=' and tabs as separators.")

    H("html-angle-brackets-in-attribute", """<html><body>
<p><a title="<a href=evil>" href="https://www.example.com/real-1">title holds markup</a></p>
<p><img alt="x > y" src="https://img.example.com/a.png"><a href="https://www.example.com/real-2">after &gt; in alt</a></p>
<p><span data-x='<a href="https://www.example.com/fake">'>fake in data attribute</span></p>
<p><a href="https://www.example.com/q?x=<y>">angle brackets in href</a></p>
</body></html>
""", "Markup-looking text inside attribute values (title=\"<a href=evil>\") is not parsed as tags.")

    H("html-duplicate-href", """<html><body>
<p><a href="https://first.example.com/" href="https://second.example.com/">duplicate href</a></p>
<p><a HREF="https://one.example.com/" href="https://two.example.com/">case-differing duplicate</a></p>
</body></html>
""", "An anchor with two href attributes: only the first (the one browsers use) is considered.")

    H("html-href-whitespace", """<html><body>
<p><a href="  https://www.example.com/leading-and-trailing  ">spaces</a></p>
<p><a href="
    https://www.example.com/newlines
  ">newlines</a></p>
<p><a href="\thttps://www.example.com/tab\t">tabs</a></p>
<p><a href="   ">only whitespace</a></p>
</body></html>
""", "Leading and trailing whitespace (spaces, newlines, tabs) around href values is stripped for the destination URL.")

    H("html-href-unencoded-space", """<html><body>
<p><a href="https://files.example.com/my report.pdf">space in path</a></p>
<p><a href="https://www.example.com/search?q=red bells&amp;sort=new">space in query</a></p>
<p><a href="https://www.example.com/caf\u00e9/men\u00fc">raw non-ASCII path</a></p>
<p><a href="https://www.example.com/pipe|and^caret">pipe and caret</a></p>
</body></html>
""", "Hrefs with unencoded spaces and other characters not allowed in URLs are still wrapped with a correctly escaped destination.")

    H("html-scheme-case", """<html><body>
<p><a href="HTTPS://WWW.EXAMPLE.COM/Upper">all caps</a></p>
<p><a href="Http://www.example.com/title-case">title case http</a></p>
<p><a href="hTtPs://www.example.com/mixed">mixed</a></p>
<p><a href="MAILTO:HELP@EXAMPLE.COM">uppercase mailto</a></p>
</body></html>
""", "URL schemes are matched case-insensitively (HTTPS://, Http://, MAILTO:).")

    long_state = base64.urlsafe_b64encode(prand(1800, "long-href")).decode().rstrip("=")
    long_href = "https://auth.example.com/continue?flow=signup&amp;state=" + long_state + "&amp;end=1"
    assert len(long_href) > 2048
    H("html-very-long-href", """<html><body>
<p>Finish creating your account:</p>
<p><a href="%s">Continue</a></p>
<p><a href="https://auth.example.com/short">short</a></p>
</body></html>
""" % long_href, "An href over 2,048 bytes: guards the behaviour for destinations too long to wrap safely.")

    rows = []
    i = 0
    while sum(len(r) for r in rows) < 110 * 1024:
        rows.append(
            '<tr><td style="padding:6px;border-bottom:1px solid #ddd;">'
            '<a href="https://shop.example.com/catalogue/item-%05d?ref=big&amp;pos=%d">Item %05d</a> '
            '&mdash; hand-finished spare part number %d, in stock at two workshops.</td>'
            '<td align="right">$%d.%02d</td></tr>\n' % (i, i, i, i, 3 + i % 97, i % 100))
        i += 1
    big = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Full catalogue</title></head>\n"
           "<body>\n<h1>Kestrel Cycles full parts catalogue</h1>\n<table width=\"100%\">\n"
           + "".join(rows) + "</table>\n<p><a href=\"https://shop.example.com/unsubscribe\">Unsubscribe</a></p>\n</body></html>\n")
    H("html-large-over-102kb", big,
      "A document larger than 102 KB (Gmail clipping threshold) with hundreds of links: guards performance and any size warning.")

    H("html-non-anchor-url-attributes", """<html><body background="https://img.example.com/bg.jpg">
<table><tr><td background="https://img.example.com/cell.jpg">cell</td></tr></table>
<img src="https://img.example.com/hero.png" srcset="https://img.example.com/hero@2x.png 2x">
<form action="https://www.example.com/subscribe" method="post"><button formaction="https://www.example.com/alt">Go</button></form>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="https://www.example.com/svg-link"><text>svg</text></a></svg>
<a data-href="https://www.example.com/data-href" ping="https://www.example.com/ping">no href at all</a>
<iframe src="https://www.example.com/frame"></iframe>
<p><a href="https://www.example.com/the-anchor">the anchor</a></p>
</body></html>
""", "URL-valued attributes other than a/area href (img src, background, form action, xlink:href, data-href, ping) are left unchanged.")

    H("html-empty-and-missing-href", """<html><body>
<a name="anchor-only">named anchor</a>
<a href>bare href attribute</a>
<a href="">empty href</a>
<a href=''>empty single-quoted href</a>
<a href=>empty unquoted href</a>
<p><a href="https://www.example.com/ok">ok</a></p>
</body></html>
""", "Anchors without href, with a valueless href and with empty href values are left as they are.")

    H("html-crlf-document", RECEIPT.replace("\n", "\r\n"),
      "The receipt document with CRLF line endings; line endings are preserved byte for byte.")

    H("html-bom-utf8", b"\xef\xbb\xbf" + B(simple_html(
        "Caf\u00e9 news", ["Notre caf\u00e9 ouvre \u00e0 8 h, m\u00eame le dimanche."],
        [("https://cafe.example.org/horaires", "Horaires")])),
      "A UTF-8 document starting with a byte order mark.")

    H("html-anchor-attribute-order-and-extras", """<html><body>
<a style="color:#c00" href="https://www.example.com/styled" title="Styled" rel="noopener" target="_blank" id="cta">Styled CTA</a>
<a href="https://www.example.com/self-closing"/>self-closing anchor</a>
<a href="https://www.example.com/nested-outer"><span><b><a href="https://www.example.com/nested-inner">nested anchors</a></b></span></a>
<a href="https://www.example.com/image-link"><img src="https://img.example.com/cta.png" alt="Shop now" width="200"></a>
</body></html>
""", "Other attributes, their order and their quoting survive the rewrite; self-closing and nested anchors are handled.")

    H("html-optional-policy-http-links", """<html><body>
<p><a href="http://www.example.com/plain-http">plain http</a></p>
<p><a href="https://www.example.com/secure">https</a></p>
{{ses:openTracker}}
</body></html>
""", "Run with --configuration-set optional: click and open URLs use http or https per the OPTIONAL policy.",
      args=["--configuration-set", "optional"])


# ---------------------------------------------------------------- MIME cases

def mime_cases():
    # Single part text/html, CRLF and LF
    for eol, tag in ((CRLF, "crlf"), (LF, "lf")):
        h = headers("Kestrel Cycles <orders@shop.example.com>", "Priya Raman <priya@example.net>",
                    "Your Kestrel Cycles receipt KC-48213", "Sun, 03 Mar 2024 10:14:07 +0000",
                    "<receipt.48213.%s@shop.example.com>" % tag,
                    ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: 7bit"])
        write_case("mime-single-part-html-" + tag, eolify(message(h, RECEIPT), eol),
                   "A single-part text/html message with %s line endings." % tag.upper())

    # multipart/alternative: CRLF, LF, mixed
    for eol, tag in ((CRLF, "crlf"), (LF, "lf")):
        b = "=_alt_7f3c2a"
        body = multipart(b, [
            text_part(plain_of("Shelf notes for March")),
            html_part(NEWSLETTER, "UTF-8"),
        ])
        h = headers('"Orchard Lane Books" <shelf@news.example.org>', "reader.4471@example.com",
                    "Shelf notes for March", "Fri, 01 Mar 2024 07:00:00 -0500",
                    "<nl-2024-03.4471.%s@news.example.org>" % tag,
                    ['Content-Type: multipart/alternative; boundary="%s"' % b])
        write_case("mime-alternative-" + tag, eolify(message(h, body), eol),
                   "multipart/alternative with text/plain and text/html (%s): only the HTML part is rewritten." % tag.upper())

    b = "alt-boundary-22"
    mixed = (
        "From: Pinecrest Utilities <billing@example.net>\r\n"
        "To: account.77-1042@example.com\r\n"
        "Subject: Your bill is ready\n"
        "Date: Tue, 12 Mar 2024 06:30:00 +0100\r\n"
        "Message-ID: <bill.77-1042.mixed@example.net>\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="alt-boundary-22"\r\n'
        "\r\n"
        "--alt-boundary-22\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\n"
        "Your bill is ready: https://my.example.net/bills/77-1042/latest\r\n"
        "--alt-boundary-22\r\n"
        "Content-Type: text/html; charset=utf-8\n"
        "\r\n"
        + BILL.replace("</p>\n<p><a", "</p>\r\n<p><a") +
        "--alt-boundary-22--\n")
    write_case("mime-alternative-mixed-line-endings", mixed.encode(),
               "multipart/alternative whose headers, boundaries and HTML mix CRLF and bare LF line endings.")

    # CRLF header block, LF body
    h = headers("Bramblewood Tea <hello@tea.example.com>", "Ines Duarte <ines@example.net>",
                "Your tea box is on its way", "Mon, 04 Mar 2024 15:20:00 +0000",
                "<box.shipped.mixedeol@tea.example.com>",
                ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: 7bit"])
    write_case("mime-single-part-html-crlf-headers-lf-body",
               eolify(h + "\n", CRLF) + B(simple_html(
                   "On its way", ["Your Bramblewood Tea box left the warehouse this morning."],
                   [("https://tea.example.com/box/track?id=BT-7781", "Track the box"),
                    ("https://tea.example.com/brewing-guide", "Brewing guide")], tracker=True)),
               "A single-part HTML message whose header block uses CRLF but whose body uses bare LF.")

    # many HTML edge features inside a real message, quoted-printable
    edge = ("""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Spring event</title>
<link rel="stylesheet" href="https://cdn.example.com/event.css">
<style>.x{background:url(https://img.example.com/bg.png)}</style></head>
<body>
<!-- <a href="https://www.example.com/old-event">last year</a> -->
<p>Join the Kestrel Cycles spring ride on 6 April.</p>
""" + MSO_BUTTON.split("<div>", 1)[1].split("</div>", 1)[0].replace("bank.example.com/statements/2024-02", "shop.example.com/events/spring-ride").replace("View statement", "Reserve a place") + """
<p><A HREF=https://shop.example.com/events/route?km=42&amp;level=easy>Route</A> &middot;
<a href='https://shop.example.com/events/faq?region=1&region2=2' ses:tags="campaign:spring;variant:b;">FAQ</a> &middot;
<a ses:no-track href="https://shop.example.com/events/waiver">Waiver</a></p>
<p><a href="mailto:events@shop.example.com">events@shop.example.com</a> &middot; <a href="tel:+15555550199">call</a> &middot; <a href="#top">top</a></p>
<p><a href="*|UNSUB|*">Unsubscribe</a> &middot; <a href="https://links.example.com/c/already/tracked">already tracked</a></p>
<img src="https://img.example.com/route.png" usemap="#r" alt="route"><map name="r"><area shape="rect" coords="0,0,10,10" href="https://shop.example.com/events/start"></map>
<textarea><a href="https://www.example.com/in-textarea">x</a></textarea>
{{ses:openTracker}}
</body></html>
""")
    body = multipart("edge-alt", [text_part(plain_of("Spring ride")), html_part(qp(edge), cte="quoted-printable")])
    h = headers("Kestrel Cycles Events <events@shop.example.com>", "riders@example.org",
                "Spring ride: reserve a place", "Sat, 16 Mar 2024 09:00:00 +0000", "<spring-ride.edge@shop.example.com>",
                ['Content-Type: multipart/alternative; boundary="edge-alt"'])
    write_case("mime-alternative-html-edge-features-qp", eolify(message(h, body), CRLF),
               "A quoted-printable HTML part combining VML/conditional comments, uppercase unquoted anchors, ses:tags, ses:no-track, non-http schemes, an image map, head links and the placeholder inside a real message.")

    # mixed > related > alternative, with image and PDF
    for eol, tag in ((CRLF, "crlf"), (LF, "lf")):
        html = RECEIPT.replace(
            "<h1 style=\"font-size:20px;\">",
            "<img src=\"cid:logo-kc@shop.example.com\" width=\"12\" height=\"12\" alt=\"\">\n  <h1 style=\"font-size:20px;\">")
        alt = multipart("b3-alt", [text_part(plain_of("Thanks for your order")),
                                   html_part(html, cte="7bit")])
        rel = multipart("b2-related", [
            part('Content-Type: multipart/alternative; boundary="b3-alt"', alt),
            part("Content-Type: image/png; name=\"logo.png\"\nContent-Transfer-Encoding: base64\n"
                 "Content-ID: <logo-kc@shop.example.com>\nContent-Disposition: inline; filename=\"logo.png\"",
                 b64(png())),
        ])
        mix = multipart("b1-mixed", [
            part('Content-Type: multipart/related; type="multipart/alternative"; boundary="b2-related"', rel),
            part('Content-Type: application/pdf; name="invoice-KC-48213.pdf"\nContent-Transfer-Encoding: base64\n'
                 'Content-Disposition: attachment; filename="invoice-KC-48213.pdf"', b64(pdf())),
        ], preamble="This is a multi-part message in MIME format.\n")
        h = headers("Kestrel Cycles <orders@shop.example.com>", "priya@example.net",
                    "Invoice for order KC-48213", "Sun, 03 Mar 2024 10:15:44 +0000",
                    "<invoice.48213.%s@shop.example.com>" % tag,
                    ['Content-Type: multipart/mixed; boundary="b1-mixed"'])
        write_case("mime-mixed-related-alternative-" + tag, eolify(message(h, mix), eol),
                   "alternative inside related inside mixed, with an inline PNG and a PDF attachment (%s): only the HTML part changes." % tag.upper())

    # Apple-Mail style interleaved html parts
    img1, img2 = png(8, 8, "apple1"), png(10, 6, "apple2")
    inner = multipart("Apple-Mail=_9D2E-mixed", [
        html_part('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
                  '<body style="word-wrap: break-word;"><div>Photos from the ride, as promised. The route is '
                  '<a href="https://maps.example.com/route/ridge-loop">here</a>.</div><div><br></div></body></html>',
                  cte="7bit"),
        part('Content-Type: image/png; name="ridge-1.png"\nContent-Disposition: inline; filename="ridge-1.png"\n'
             'Content-Transfer-Encoding: base64', b64(img1)),
        html_part('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
                  '<body style="word-wrap: break-word;"><div><br></div><div>And the caf\u00e9 at the top: '
                  '<a href="https://www.example.org/places/summit-cafe">summit caf\u00e9</a></div></body></html>',
                  cte="8bit"),
        part('Content-Type: image/png; name="ridge-2.png"\nContent-Disposition: inline; filename="ridge-2.png"\n'
             'Content-Transfer-Encoding: base64', b64(img2)),
        html_part('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
                  '<body style="word-wrap: break-word;"><div><br></div><div>See you Sunday,</div><div>Marek</div></body></html>',
                  cte="7bit"),
    ])
    outer = multipart("Apple-Mail=_9D2E-alt", [
        text_part("Photos from the ride, as promised. The route is here:\nhttps://maps.example.com/route/ridge-loop\n\n"
                  "[image: ridge-1.png]\n\nAnd the caf\u00e9 at the top\n\n[image: ridge-2.png]\n\nSee you Sunday,\nMarek\n",
                  cte="8bit"),
        part('Content-Type: multipart/mixed; boundary="Apple-Mail=_9D2E-mixed"', inner),
    ])
    h = ("From: Marek Nowicki <marek@example.org>\n"
         'Content-Type: multipart/alternative; boundary="Apple-Mail=_9D2E-alt"\n'
         "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))\n"
         "Subject: Ridge loop photos\n"
         "Date: Sat, 9 Mar 2024 18:02:11 +0100\n"
         "Message-Id: <5B0E2C1A-77D4-4E0C-9A31-2F6D8C0E11AA@example.org>\n"
         "To: Riders <riders@lists.example.org>\n")
    write_case("mime-apple-mail-interleaved-html", eolify(message(h, outer), CRLF),
               "Apple-Mail-style multipart/mixed with several text/html parts interleaved with inline images; every HTML part is rewritten but only one pixel is added.")

    # HTML attachment
    report = simple_html("Usage report", ["Monthly usage report for account 77-1042."],
                         [("https://my.example.net/usage/2024-02", "Interactive version")])
    body = multipart("att-6611", [
        html_part(BILL),
        part('Content-Type: text/html; charset="utf-8"; name="report.html"\n'
             'Content-Disposition: attachment; filename="report.html"\nContent-Transfer-Encoding: 7bit', report),
    ])
    h = headers("Pinecrest Utilities <billing@example.net>", "account.77-1042@example.com",
                "February usage report", "Wed, 06 Mar 2024 09:00:00 +0100",
                "<usage.77-1042@example.net>", ['Content-Type: multipart/mixed; boundary="att-6611"'])
    write_case("mime-html-attachment-untouched", eolify(message(h, body), CRLF),
               "An HTML attachment (Content-Disposition: attachment; filename=\"report.html\") stays byte-identical while the body HTML is rewritten.")

    body = multipart("inl-1", [
        text_part("Your summary is attached inline below.\n"),
        part('Content-Type: text/html; charset="utf-8"; name="summary.html"\n'
             'Content-Disposition: inline; filename="summary.html"', report),
    ])
    h = headers("Pinecrest Utilities <billing@example.net>", "account.77-1042@example.com",
                "Usage summary", "Wed, 06 Mar 2024 09:01:00 +0100",
                "<usage-inline.77-1042@example.net>", ['Content-Type: multipart/mixed; boundary="inl-1"'])
    write_case("mime-html-inline-with-filename", eolify(message(h, body), CRLF),
               "A text/html part with Content-Disposition: inline and a filename: guards whether it counts as body or attachment.")

    # forwarded message/rfc822
    inner_msg = message(headers("Kestrel Cycles <orders@shop.example.com>", "priya@example.net",
                                "Your Kestrel Cycles receipt KC-48213", "Sun, 03 Mar 2024 10:14:07 +0000",
                                "<receipt.48213@shop.example.com>",
                                ['Content-Type: text/html; charset="utf-8"']), RECEIPT)
    body = multipart("fwd-0042", [
        text_part("Hi Jo, forwarding the receipt for the expense claim.\n\nPriya\n"),
        part('Content-Type: message/rfc822\nContent-Disposition: inline', inner_msg),
    ])
    h = headers("Priya Raman <priya@example.net>", "Jo Accounts <jo@example.com>",
                "Fwd: Your Kestrel Cycles receipt KC-48213", "Mon, 04 Mar 2024 08:45:00 +0000",
                "<fwd.48213@example.net>", ['Content-Type: multipart/mixed; boundary="fwd-0042"'])
    write_case("mime-forwarded-rfc822", eolify(message(h, body), CRLF),
               "A forwarded message/rfc822 part containing HTML: guards whether the embedded message is left intact.")

    # multipart/signed S/MIME
    signed_inner = multipart("sig-alt-1", [
        text_part("Your statement is ready: https://bank.example.com/statements/2024-02\n"),
        html_part(MSO_BUTTON),
    ])
    body = multipart("smime-sig-9", [
        part('Content-Type: multipart/alternative; boundary="sig-alt-1"', signed_inner),
        part('Content-Type: application/pkcs7-signature; name="smime.p7s"\nContent-Transfer-Encoding: base64\n'
             'Content-Disposition: attachment; filename="smime.p7s"', b64(prand(600, "smime-sig"))),
    ], preamble="This is an S/MIME signed message\n")
    h = headers("Lumen Harbor Bank <statements@bank.example.com>", "tomasz@example.org",
                "Your February statement", "Thu, 07 Mar 2024 05:00:00 +0000", "<stmt.2024-02.tk@bank.example.com>",
                ['Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="smime-sig-9"'])
    write_case("mime-multipart-signed-smime", eolify(message(h, body), CRLF),
               "multipart/signed (S/MIME) wrapping HTML: rewriting would break the signature, so the message must pass unchanged by default.")
    write_case("mime-multipart-signed-smime-rewrite-signed", eolify(message(h, body), CRLF),
               "The same S/MIME signed message with --rewrite-signed: guards what the override does for multipart/signed.",
               args=["--rewrite-signed"])

    # multipart/encrypted PGP
    armored = ("-----BEGIN PGP MESSAGE-----\n\n" + b64(prand(420, "pgp"), 64)
               + "=" + base64.b64encode(prand(3, "crc")).decode() + "\n-----END PGP MESSAGE-----\n")
    body = multipart("pgp-enc-4", [
        part("Content-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification", "Version: 1\n"),
        part('Content-Type: application/octet-stream; name="encrypted.asc"\nContent-Description: OpenPGP encrypted message\n'
             'Content-Disposition: inline; filename="encrypted.asc"', armored),
    ], preamble="This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n")
    h = headers("Ana Costa <ana@example.com>", "Sam Lee <sam@example.org>", "...", "Tue, 05 Mar 2024 21:10:00 +0000",
                "<pgp.7731@example.com>",
                ['Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="pgp-enc-4"'])
    write_case("mime-multipart-encrypted-pgp", eolify(message(h, body), CRLF),
               "multipart/encrypted (PGP/MIME) passes unchanged: there is no HTML to see.")

    h = headers("Lumen Harbor Bank <secure@bank.example.com>", "tomasz@example.org", "Encrypted notice",
                "Tue, 05 Mar 2024 21:12:00 +0000", "<p7m.7732@bank.example.com>",
                ['Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
                 "Content-Transfer-Encoding: base64", 'Content-Disposition: attachment; filename="smime.p7m"'])
    write_case("mime-pkcs7-mime-enveloped", eolify(message(h, b64(prand(700, "p7m"))), CRLF),
               "An S/MIME enveloped-data (application/pkcs7-mime) message passes unchanged.")

    # DKIM
    def dkim(hlist, seed):
        bh = base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()
        sig = base64.b64encode(prand(256, seed)).decode()
        folded = "\n\t ".join(sig[i:i + 70] for i in range(0, len(sig), 70))
        return ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=shop.example.com;\n"
                "\ts=mail2024; t=1709460847; x=1710065647;\n"
                "\th=%s;\n\tbh=%s;\n\tb=%s" % (hlist, bh, folded))

    def dkim_msg(hlist, seed, extra=()):
        h = (dkim(hlist, seed) + "\n" +
             headers("Kestrel Cycles <orders@shop.example.com>", "priya@example.net",
                     "Your Kestrel Cycles receipt KC-48213", "Sun, 03 Mar 2024 10:14:07 +0000",
                     "<receipt.48213.dkim.%s@shop.example.com>" % seed,
                     list(extra) + ['Content-Type: multipart/alternative; boundary="dk-alt"']))
        body = multipart("dk-alt", [text_part(plain_of("Thanks for your order")), html_part(RECEIPT)])
        return eolify(message(h, body), CRLF)

    hl = "from:to:subject:date:message-id:mime-version:content-type"
    write_case("mime-dkim-signed", dkim_msg(hl, "a"),
               "A message carrying a DKIM-Signature header passes unchanged by default, since rewriting the body would invalidate it.")
    write_case("mime-dkim-signed-rewrite-signed", dkim_msg(hl, "a"),
               "The same DKIM-signed message with --rewrite-signed is rewritten anyway.", args=["--rewrite-signed"])
    hl2 = "from:to:subject:date:message-id:mime-version:content-type:x-ses-configuration-set"
    write_case("mime-dkim-covers-configuration-set", dkim_msg(hl2, "b", ["X-SES-CONFIGURATION-SET: marketing"]),
               "A DKIM signature whose h= list covers X-SES-CONFIGURATION-SET: removing that header would break the signature.")
    write_case("mime-dkim-covers-configuration-set-rewrite-signed", dkim_msg(hl2, "b", ["X-SES-CONFIGURATION-SET: marketing"]),
               "The DKIM signature covering X-SES-CONFIGURATION-SET, with --rewrite-signed.", args=["--rewrite-signed"])

    # missing final boundary
    body = multipart("nofinal", [text_part(plain_of("Bill ready")), html_part(BILL)], close=False)
    h = headers("Pinecrest Utilities <billing@example.net>", "account.77-1042@example.com", "Your bill is ready",
                "Tue, 12 Mar 2024 06:30:00 +0100", "<bill.nofinal@example.net>",
                ['Content-Type: multipart/alternative; boundary="nofinal"'])
    write_case("mime-missing-final-boundary", eolify(message(h, body), CRLF),
               "A multipart message truncated before its closing --boundary-- line: the last part is still processed and nothing is invented.")

    # boundary-like lines
    html = """<html><body>
<p>Separator examples from our style guide:</p>
<pre>
--boundaryX is not a delimiter
--boundary-ish neither
--boundary--x nor this
  --boundary (indented, so not at line start)
</pre>
<p><a href="https://docs.example.com/style/separators">Read the guide</a></p>
</body></html>
"""
    body = multipart("boundary", [text_part("See the HTML version.\n--boundaryZ in plain text\n"), html_part(html)])
    h = headers("Docs Team <docs@example.com>", "writers@example.com", "Separator examples",
                "Mon, 11 Mar 2024 12:00:00 +0000", "<sep.1@example.com>",
                ["Content-Type: multipart/alternative; boundary=boundary"])
    write_case("mime-boundary-prefix-lines-in-body", eolify(message(h, body), CRLF),
               "Body lines that start with --boundaryX when the boundary is 'boundary' are not treated as delimiters.")

    # transport padding on delimiter lines
    body = (b"--pad-b  \n" + html_part(simple_html("Padding", ["Delimiter lines carry trailing whitespace."],
                                                    [("https://www.example.com/padding", "Link")]))
            + b"--pad-b\t\n" + text_part("plain\n") + b"--pad-b-- \n")
    h = headers("Sender <sender@example.com>", "rcpt@example.org", "Transport padding",
                "Mon, 11 Mar 2024 12:05:00 +0000", "<pad.1@example.com>",
                ['Content-Type: multipart/mixed; boundary="pad-b"'])
    write_case("mime-boundary-transport-padding", eolify(message(h, body), CRLF),
               "Delimiter lines followed by spaces or tabs (RFC 2046 transport padding) are still recognised.")

    # bad base64
    good = base64.b64encode(B(simple_html("Receipt", ["Order KC-50001 confirmed."],
                                          [("https://shop.example.com/orders/KC-50001", "View order")]))).decode()
    bad = good[:60] + "!!@@" + good[60:130] + "\n====\n" + good[130:200] + "*" + good[200:]
    bad_lines = "\n".join(bad[i:i + 76] for i in range(0, len(bad), 76)) + "\nthis is not base64 at all\n"
    h = headers("Kestrel Cycles <orders@shop.example.com>", "buyer@example.org", "Order KC-50001 confirmed",
                "Thu, 14 Mar 2024 16:20:00 +0000", "<order.50001@shop.example.com>",
                ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: base64"])
    write_case("mime-bad-base64-html", eolify(message(h, bad_lines), CRLF),
               "An HTML part whose base64 contains invalid characters, stray padding and a text line: no crash, and the part is left alone or decoded leniently.")

    # deep nesting
    depth = 60
    inner = html_part(simple_html("Deep", ["Sixty levels down."], [("https://www.example.com/deep", "deep link")]))
    for level in range(depth, 1, -1):
        b = "nest-%02d" % level
        inner = part('Content-Type: multipart/mixed; boundary="%s"' % b, multipart(b, [inner]))
    h = headers("Nesting Test <nest@example.com>", "rcpt@example.org", "Sixty levels",
                "Fri, 15 Mar 2024 10:00:00 +0000", "<nest.60@example.com>",
                ['Content-Type: multipart/mixed; boundary="nest-01"'])
    write_case("mime-nesting-60-levels", eolify(message(h, multipart("nest-01", [inner])), CRLF),
               "multipart/mixed nested 60 levels deep around one HTML part: guards recursion limits.")

    # preamble and epilogue
    body = multipart("pre-epi", [text_part(plain_of("Bill")), html_part(BILL)],
                     preamble=("This is a message with multiple parts in MIME format.\n"
                               "If you can read this, your mail reader is very old.\n"
                               "<a href=\"https://www.example.net/in-preamble\">not a body link</a>\n"),
                     epilogue=("Epilogue text after the closing delimiter.\n"
                               "<a href=\"https://www.example.net/in-epilogue\">also not a body link</a>\n"))
    h = headers("Pinecrest Utilities <billing@example.net>", "account.77-1042@example.com", "Your bill",
                "Tue, 12 Mar 2024 06:31:00 +0100", "<bill.preepi@example.net>",
                ['Content-Type: multipart/alternative; boundary="pre-epi"'])
    write_case("mime-preamble-and-epilogue", eolify(message(h, body), CRLF),
               "Preamble and epilogue text (containing link-like markup) is preserved and never rewritten.")

    # header folding and odd order
    h = ("Content-Transfer-Encoding: 7bit\n"
         "Content-Type: multipart/alternative;\n"
         "\tboundary=\"fold-b\";\n"
         "  charset=\"us-ascii\"\n"
         "Subject: A subject that is long enough that the sending software\n"
         " decided to fold it over\n"
         "\tthree lines\n"
         "X-SES-CONFIGURATION-SET:\n"
         " marketing\n"
         "Received: from mta.example.com (mta.example.com [192.0.2.10])\n"
         "\tby mx.example.org with ESMTPS id 4Tq9X2; Mon, 11 Mar 2024 09:00:02 +0000\n"
         "MIME-Version: 1.0\n"
         "Date: Mon, 11 Mar 2024 09:00:00 +0000\n"
         "To: \"Reader, Dear\" <reader@example.org>,\n"
         "    other.reader@example.org\n"
         "From: News <news@example.com>\n"
         "Message-ID:\n <folded.msgid.1@example.com>\n")
    body = multipart("fold-b", [text_part("plain\n"), html_part(simple_html(
        "Folded", ["Headers arrive in an unusual order and are folded."],
        [("https://www.example.com/folded", "Folded link")]))])
    write_case("mime-header-folding-odd-order", eolify(message(h, body), CRLF),
               "Folded headers (including a folded Content-Type boundary and a folded X-SES-CONFIGURATION-SET) in an unusual order are parsed and preserved.")

    # text/plain only
    h = headers("Ana Costa <ana@example.com>", "Sam Lee <sam@example.org>", "Lunch on Thursday?",
                "Wed, 13 Mar 2024 11:42:00 +0000", "<plain.only.1@example.com>",
                ['Content-Type: text/plain; charset="us-ascii"; format=flowed', "Content-Transfer-Encoding: 7bit"])
    write_case("mime-text-plain-only", eolify(message(h, "Hi Sam,\n\nThe new place is at https://food.example.org/menu \n"
                                                       "and they open at noon. <a href=\"https://www.example.com/x\">this is text</a>\n\n"
                                                       "Ana\n"), CRLF),
               "A text/plain-only message (even with HTML-looking text) is delivered unchanged with no pixel.")

    h = ("From: old-client@example.com\nTo: rcpt@example.org\nSubject: No MIME headers\n"
         "Date: Wed, 13 Mar 2024 11:50:00 +0000\nMessage-ID: <nomime.1@example.com>\n")
    write_case("mime-no-content-type", eolify(message(h, "<html><body><a href=\"https://www.example.com/\">looks like html</a></body></html>\n"), CRLF),
               "No MIME-Version or Content-Type: the body defaults to text/plain and is not rewritten.")

    # unknown multipart subtype
    body = multipart("xc-1", [html_part(BILL), text_part("second part\n")])
    h = headers("Pinecrest Utilities <billing@example.net>", "rcpt@example.org", "Custom multipart",
                "Tue, 12 Mar 2024 06:32:00 +0100", "<xcustom.1@example.net>",
                ['Content-Type: multipart/x-custom; boundary="xc-1"'])
    write_case("mime-unknown-multipart-subtype", eolify(message(h, body), CRLF),
               "An unknown multipart subtype (multipart/x-custom) is treated like multipart/mixed.")

    # Content-Type parameter syntaxes
    def param_case(name, ct, desc, boundary):
        body = multipart(boundary, [text_part("plain\n"), html_part(simple_html(
            "Params", ["Content-Type parameter syntax test."], [("https://www.example.com/params", "Params link")]))])
        h = headers("Params <params@example.com>", "rcpt@example.org", "Parameter syntax",
                    "Fri, 15 Mar 2024 10:10:00 +0000", "<%s@example.com>" % name, ["Content-Type: " + ct])
        write_case(name, eolify(message(h, body), CRLF), desc)

    param_case("mime-boundary-unquoted", "multipart/alternative; boundary=simple_b-1.2",
               "An unquoted boundary parameter.", "simple_b-1.2")
    param_case("mime-boundary-quoted-special-chars", 'Multipart/Alternative; BOUNDARY="b (1) =:?,/"; charset=x',
               "A quoted boundary containing spaces and tspecials, with upper-case type and parameter name.", "b (1) =:?,/")
    param_case("mime-boundary-rfc2231-extended", "multipart/alternative; boundary*=us-ascii'en'rfc2231%2Dbnd",
               "An RFC 2231 extended boundary parameter (boundary*=charset'lang'percent-encoded).", "rfc2231-bnd")
    param_case("mime-boundary-rfc2231-continuation",
               'multipart/alternative;\n boundary*0="cont-part-one-";\n boundary*1="part-two"',
               "An RFC 2231 continued boundary parameter split into boundary*0 and boundary*1.", "cont-part-one-part-two")
    param_case("mime-content-type-comments", 'multipart/alternative (a comment); boundary="cmt-b" (another)',
               "RFC 5322 comments inside the Content-Type header value.", "cmt-b")

    # SES headers
    h = headers("Kestrel Cycles <news@shop.example.com>", "rider@example.org", "Spring range is here",
                "Sat, 16 Mar 2024 08:00:00 +0000", "<spring.ses@shop.example.com>",
                ["X-SES-CONFIGURATION-SET: optional", "X-SES-MESSAGE-TAGS: campaign=spring, cohort=b",
                 'Content-Type: multipart/alternative; boundary="ses-h"'])
    body = multipart("ses-h", [text_part(plain_of("Spring range")), html_part("""<html><body>
<p>The spring range has landed.</p>
<p><a href="http://shop.example.com/spring">Browse (http)</a> <a href="https://shop.example.com/spring/bells" ses:tags="product:bell;">Bells (https)</a></p>
</body></html>
""")])
    write_case("mime-ses-headers", eolify(message(h, body), CRLF),
               "X-SES-CONFIGURATION-SET: optional and X-SES-MESSAGE-TAGS: campaign=spring, cohort=b select the set and add message tags; both headers are removed.")

    # no Message-ID
    h = headers("Bramblewood Tea <hello@tea.example.com>", "ines@example.net", "Your first box",
                "Sun, 17 Mar 2024 09:30:00 +0000", None, ['Content-Type: text/html; charset="utf-8"'])
    write_case("mime-no-message-id", eolify(message(h, simple_html(
        "First box", ["Your first box ships Monday."], [("https://tea.example.com/box/first", "Track it")])), CRLF),
               "A message without a Message-ID header: tracking identifiers are still derived deterministically.")

    # empty html part; headers only
    body = multipart("empty-h", [text_part("Only plain has content.\n"),
                                 b'Content-Type: text/html; charset="utf-8"\n\n'])
    h = headers("Sender <sender@example.com>", "rcpt@example.org", "Empty HTML part",
                "Sun, 17 Mar 2024 09:31:00 +0000", "<emptyhtml.1@example.com>",
                ['Content-Type: multipart/alternative; boundary="empty-h"'])
    write_case("mime-empty-html-part", eolify(message(h, body), CRLF),
               "A text/html part with an empty body.")

    h = headers("Sender <sender@example.com>", "rcpt@example.org", "Headers only",
                "Sun, 17 Mar 2024 09:32:00 +0000", "<headersonly.1@example.com>",
                ['Content-Type: text/html; charset="utf-8"'])
    write_case("mime-headers-only", eolify(h, CRLF),
               "A message that ends after its header block with no blank line and no body.")

    # large message over 102 KB
    rows = []
    n = 0
    while sum(len(r) for r in rows) < 105 * 1024:
        rows.append('<p>Entry %d of the parts list: <a href="https://shop.example.com/parts/%d">part %d</a></p>\n' % (n, n, n))
        n += 1
    html = "<html><body>\n" + "".join(rows) + "</body></html>\n"
    h = headers("Kestrel Cycles <orders@shop.example.com>", "workshop@example.org", "Full parts list",
                "Mon, 18 Mar 2024 07:00:00 +0000", "<parts.big@shop.example.com>",
                ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"])
    write_case("mime-large-html-over-102kb", eolify(message(h, qp(html)), CRLF),
               "A quoted-printable HTML body that exceeds 102 KB once decoded, with many links.")


# ---------------------------------------------------------------- encoding cases

def enc_cases():
    simple = simple_html("Order shipped", ["Your order KC-51120 has shipped."],
                         [("https://shop.example.com/track/KC-51120?step=1&amp;from=email", "Track parcel"),
                          ("https://help.example.com/returns", "Returns")])

    def single(name, cte_header, body, desc, eol=CRLF, charset='"utf-8"', subject="Order shipped"):
        h = headers("Kestrel Cycles <orders@shop.example.com>", "buyer@example.org", subject,
                    "Tue, 19 Mar 2024 13:00:00 +0000", "<%s@shop.example.com>" % name,
                    ["Content-Type: text/html; charset=" + charset] +
                    (["Content-Transfer-Encoding: " + cte_header] if cte_header else []))
        write_case(name, eolify(message(h, body), eol), desc)

    single("enc-7bit", "7bit", simple, "A plain 7bit HTML part.")
    single("enc-no-cte-header", None, simple, "No Content-Transfer-Encoding header (defaults to 7bit).")
    fr = simple_html("Commande exp\u00e9di\u00e9e", ["Votre commande KC-51121 est en route. Merci d\u2019avoir choisi Kestrel\u00a0Cycles\u00a0!"],
                     [("https://shop.example.com/fr/suivi/KC-51121", "Suivre le colis")])
    single("enc-8bit-utf8", "8bit", fr, "An 8bit UTF-8 HTML part with non-ASCII text.")

    # binary: CRLF and a lone CR and raw bytes in the part
    binary = B(fr).replace(b"</body>", b"<p>bare CR here:\rend</p>\n</body>")
    h = headers("Kestrel Cycles <orders@shop.example.com>", "buyer@example.org", "Binary part",
                "Tue, 19 Mar 2024 13:01:00 +0000", "<enc-binary@shop.example.com>",
                ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: binary"])
    write_case("enc-binary", B(message(h, b"")).replace(b"\n", b"\r\n") + binary,
               "Content-Transfer-Encoding: binary with LF lines and a lone CR inside a CRLF-headed message.")

    # quoted-printable with soft breaks inside hrefs
    qp_body = """<html><body>
<p>Hello,</p>
<p><a href=3D"https://www.example.com/acc=
ount/settings?ref=3Demail&amp;x=3D1">Account settings</a></p>
<p><a href=3D"https://www.ex=
ample.com/long/path/that/the/encoder/split/somewhere/in/the/middle?a=3D1&amp;b=
=3D2">Split in host and before =3D</a></p>
<p>Price:=20=E2=82=AC12 and a soft break at the very end=
 of a word.</p>
<p><a href=3D"https://www.example.com/tail">Tail</a></p>=
</body></html>
"""
    for eol, tag in ((CRLF, "crlf"), (LF, "lf")):
        single("enc-qp-soft-break-in-href-" + tag, "quoted-printable", qp_body,
               "Quoted-printable with soft line breaks (=%s) in the middle of hrefs and =3D in query strings (%s)."
               % ("\\r\\n" if tag == "crlf" else "\\n", tag.upper()), eol=eol)
    single("enc-qp-lowercase-hex-and-trailing-space", "quoted-printable",
           "<html><body>\n<p><a href=3d\"https://www.example.com/p?a=3d1&amp;b=3d2\">lowercase hex</a>   \n"
           "<a href=\"https://www.example.com/bare-equals?x=1\">a bare = not followed by hex</a>\t\n"
           "<a href=\"https://www.example.com/q?z=3Dy=\n=3D\">soft break then =3D</a></p>\n</body></html>\n",
           "Non-canonical quoted-printable: lowercase hex escapes, bare '=' signs and trailing whitespace.")
    single("enc-qp-parameter-semicolon", "quoted-printable;", qp(simple),
           "The header spelled 'Content-Transfer-Encoding: quoted-printable;' with a trailing semicolon.")
    single("enc-qp-mixed-case", "Quoted-Printable", qp(simple),
           "The encoding name spelled 'Quoted-Printable' (case-insensitive match).")
    single("enc-7-bit-misspelling", "7-bit", simple,
           "The misspelled encoding '7-bit': guards whether the part is treated as identity or left untouched.")
    single("enc-unknown-x-uuencode", "x-uuencode",
           "begin 644 page.html\nM/&AT;6P^/&)O9'D^/&$@:')E9CTB:'1T<',Z+R]W=W<N97AA;7!L92YC;VTO\n`\nend\n",
           "An unknown transfer encoding (x-uuencode) leaves the part untouched.")

    for width in (76, 72):
        for eol, tag in ((CRLF, "crlf"), (LF, "lf")):
            single("enc-base64-%d-%s" % (width, tag), "base64", b64(RECEIPT, width),
                   "A base64 HTML part wrapped at %d columns with %s line endings; re-encoding keeps a sane line length." % (width, tag.upper()),
                   eol=eol)
    single("enc-base64-single-line", "base64", base64.b64encode(B(RECEIPT)).decode() + "\n",
           "A base64 HTML part on one unwrapped line longer than 998 octets: the rewritten part is wrapped at 76 characters, since a line past SMTP's limit is not a layout to keep.")
    single("enc-base64-single-line-lf", "base64", base64.b64encode(B(RECEIPT)).decode() + "\n",
           "enc-base64-single-line with LF line endings: the rewritten part is wrapped at 76 characters with LF line endings, the message's own (a body without a line break has none to keep; before, the wrapped lines ended in CRLF inside an LF message).",
           eol=LF)
    single("enc-base64-no-padding-and-whitespace", "base64",
           "\n".join("  " + l for l in b64(simple, 60).rstrip("\n").rstrip("=").split("\n")) + "\n\n",
           "Base64 with indented lines, trailing blank line and the final '=' padding removed.")
    single("enc-base64-upper-case-name", "BASE64", b64(simple),
           "The encoding name spelled 'BASE64'.")

    # 8bit line near 990 octets containing a link
    prefix = "<p>"
    link = '<a href="https://shop.example.com/p/long-line-item?id=77">the item</a>'
    words = ("Every spoke is tensioned by hand and checked twice before the wheel leaves the bench, "
             "which is why delivery takes a little longer than it might. ")
    filler = ""
    while len(prefix + filler + link) < 800:
        filler += words
    line = prefix + filler + link + " "
    tail = words * 3
    line = line + tail[:990 - len(line) - 4] + "</p>"
    assert len(line.encode()) == 990, len(line)
    body = "<html><body>\n<p>Workshop note from Kestrel Cycles \u2014 8bit on purpose.</p>\n" + line + "\n</body></html>\n"
    single("enc-8bit-line-near-990", "8bit", body,
           "An 8bit part with a 990-octet line containing a link: wrapping pushes it past 998 octets, forcing re-encoding (e.g. quoted-printable).")

    long_line = "<p>" + (words * 16)[:1400] + '<a href="https://shop.example.com/overlong">link in an overlong line</a></p>'
    body = "<html><body>\n" + long_line + "\n</body></html>\n"
    assert len(long_line) > 998
    single("enc-line-over-998-input", "7bit", body,
           "The input already has a line longer than 998 octets (a protocol violation) with a link in it.")


# ---------------------------------------------------------------- charset cases

def charset_cases():
    def cs_msg(name, charset_param, html_bytes, desc, cte="8bit", subject="Charset test", extra_ct="",
               frm="Sender <sender@example.com>"):
        ct = "Content-Type: text/html" + (("; charset=" + charset_param) if charset_param else "") + extra_ct
        h = headers(frm, "rcpt@example.org", subject, "Wed, 20 Mar 2024 10:00:00 +0000",
                    "<%s@example.com>" % name, [ct, "Content-Transfer-Encoding: " + cte])
        if cte == "base64":
            body = b64(html_bytes)
        elif cte == "quoted-printable":
            body = qp(html_bytes)
        else:
            body = html_bytes
        write_case(name, eolify(message(h, b""), CRLF) + eolify(body, CRLF), desc)

    utf8 = simple_html("Gr\u00fc\u00dfe aus M\u00fcnchen", [
        "Sch\u00f6ne Gr\u00fc\u00dfe \u2014 \u00e7a va? \u65e5\u672c\u8a9e\u3082\u5927\u4e08\u592b \U0001F6B2",
        "Men\u00fc: <a href=\"https://caf\u00e9.example.com/men\u00fc?q=gr\u00fc\u00dfe&amp;lang=de\">caf\u00e9 (IRI)</a>",
        "<a href=\"https://www.example.com/%E6%97%A5%E6%9C%AC/already-encoded\">percent-encoded</a>",
        "<a href=\"https://www.example.com/\u65e5\u672c/raw\">raw CJK path</a>"], [])
    cs_msg("charset-utf8-iri-href", '"utf-8"', B(utf8),
           "UTF-8 HTML with non-ASCII text and IRI hrefs (non-ASCII host and path) whose destinations are encoded correctly.",
           subject=ew("Gr\u00fc\u00dfe aus M\u00fcnchen"))
    cs_msg("charset-utf8-quoted-printable", '"UTF-8"', B(utf8),
           "The same UTF-8 IRI content transported as quoted-printable.", cte="quoted-printable")

    latin1 = simple_html("Nouveaut\u00e9s du caf\u00e9", [
        "D\u00e9couvrez nos caf\u00e9s de saison \u00e0 partir de 7,50\u00a0\u00a3 \u2014 pr\u00e9par\u00e9s \u00e0 la main.".replace("\u2014", "-"),
        "<a href=\"https://cafe.example.org/caf\u00e9s?r\u00e9gion=\u00eele\">lien avec accents</a>"],
        [("https://cafe.example.org/saison", "La saison")], charset_meta="iso-8859-1")
    cs_msg("charset-iso-8859-1", "ISO-8859-1", latin1.encode("iso-8859-1"),
           "ISO-8859-1 HTML (8bit) with accented text and an href containing Latin-1 bytes.",
           subject=ew("Nouveaut\u00e9s du caf\u00e9", "ISO-8859-1"))

    w1252 = (b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head>\n<body>\n"
             b"<p>\x93Smart quotes\x94 and \x91single\x92 ones \x96 plus an en dash and \x80 20.</p>\n"
             b"<p>Undefined bytes: [\x81] and [\x8d] must survive.</p>\n"
             b"<p><a href=\"https://shop.example.com/caf\xe9?q=\x93x\x94\">raw 1252 bytes in href</a></p>\n"
             b"<p><a href=\"https://shop.example.com/plain\">plain link</a> \x81\x8d</p>\n"
             b"</body></html>\n")
    cs_msg("charset-windows-1252-c1-bytes", '"windows-1252"', w1252,
           "windows-1252 HTML containing 0x93/0x94 curly quotes and the undefined bytes 0x81 and 0x8D, which must pass through unchanged.")

    ja = simple_html("\u6625\u306e\u65b0\u5546\u54c1\u306e\u3054\u6848\u5185", [
        "\u3044\u3064\u3082\u3054\u5229\u7528\u3044\u305f\u3060\u304d\u3042\u308a\u304c\u3068\u3046\u3054\u3056\u3044\u307e\u3059\u3002"
        "\u6625\u306e\u65b0\u3057\u3044\u81ea\u8ee2\u8eca\u90e8\u54c1\u3092\u3054\u7d39\u4ecb\u3057\u307e\u3059\u3002",
        "\u8868\u793a\u30bd\u30d5\u30c8\u306e\u8a2d\u5b9a\u306f\u3053\u3061\u3089\uff1a"
        "<a href=\"https://shop.example.com/ja/\u8868\u793a?\u30bd=1\">\u8868\u793a\u8a2d\u5b9a\u30da\u30fc\u30b8</a>"],
        [("https://shop.example.com/ja/spring", "\u6625\u306e\u5546\u54c1\u4e00\u89a7\u3092\u898b\u308b")],
        charset_meta="Shift_JIS")
    cs_msg("charset-shift-jis", "Shift_JIS", ja.encode("shift_jis"),
           "Shift_JIS HTML (8bit) including characters whose second byte is 0x5C (\u8868, \u30bd), also inside an href.",
           subject=ew("\u6625\u306e\u65b0\u5546\u54c1", "ISO-2022-JP"))
    cs_msg("charset-shift-jis-base64", "Shift_JIS", ja.encode("shift_jis"),
           "The Shift_JIS document transported as base64.", cte="base64")
    cs_msg("charset-euc-jp", "EUC-JP", ja.replace("Shift_JIS", "EUC-JP").encode("euc_jp"),
           "EUC-JP HTML (8bit) with Japanese text and a Japanese IRI href.")
    cs_msg("charset-iso-2022-jp", "ISO-2022-JP", ja.replace("Shift_JIS", "ISO-2022-JP").encode("iso2022_jp"),
           "ISO-2022-JP HTML (7bit with ESC sequences) with a Japanese href; escape state must not be corrupted.", cte="7bit",
           subject=ew("\u6625\u306e\u65b0\u5546\u54c1\u306e\u3054\u6848\u5185", "ISO-2022-JP"))

    u16 = simple_html("UTF-16 letter", ["Gr\u00fc\u00dfe in UTF-16 \u2014 \u65e5\u672c."],
                      [("https://www.example.com/utf16", "UTF-16 link"), ("https://www.example.com/utf16/\u00e9", "IRI")],
                      charset_meta=None)
    cs_msg("charset-utf16le-bom-base64", '"UTF-16LE"', b"\xff\xfe" + u16.encode("utf-16-le"),
           "UTF-16LE HTML with a byte order mark, base64-encoded.", cte="base64")
    cs_msg("charset-utf16be-base64", '"UTF-16BE"', u16.encode("utf-16-be"),
           "UTF-16BE HTML without a byte order mark, base64-encoded.", cte="base64")
    cs_msg("charset-utf16-bom-be-base64", '"utf-16"', b"\xfe\xff" + u16.encode("utf-16-be"),
           "charset=utf-16 with a big-endian byte order mark, base64-encoded.", cte="base64")

    ru = simple_html("\u0417\u0430\u043a\u0430\u0437 \u043e\u0442\u043f\u0440\u0430\u0432\u043b\u0435\u043d", [
        "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435! \u0412\u0430\u0448 \u0437\u0430\u043a\u0430\u0437 "
        "\u0443\u0436\u0435 \u0432 \u043f\u0443\u0442\u0438.",
        "<a href=\"https://shop.example.com/ru/\u0437\u0430\u043a\u0430\u0437/51122\">\u041e\u0442\u0441\u043b\u0435\u0434\u0438\u0442\u044c</a>"],
        [("https://shop.example.com/ru/help", "\u041f\u043e\u043c\u043e\u0449\u044c")], charset_meta="koi8-r")
    cs_msg("charset-koi8-r", "koi8-r", ru.encode("koi8_r"), "KOI8-R HTML with Cyrillic text and a Cyrillic IRI href.",
           subject=ew("\u0417\u0430\u043a\u0430\u0437 \u043e\u0442\u043f\u0440\u0430\u0432\u043b\u0435\u043d", "KOI8-R"))

    zh = simple_html("\u8ba2\u5355\u5df2\u53d1\u8d27", [
        "\u60a8\u597d\uff0c\u60a8\u7684\u8ba2\u5355\u5df2\u7ecf\u53d1\u8d27\u3002\u795d\u60a8\u9a91\u884c\u6109\u5feb \U0001F6B2\u3002",
        "<a href=\"https://shop.example.com/zh/\u8ba2\u5355?id=51123\">\u67e5\u770b\u8ba2\u5355</a>"],
        [("https://shop.example.com/zh/help", "\u5e2e\u52a9\u4e2d\u5fc3")], charset_meta="gb18030")
    cs_msg("charset-gb18030", "GB18030", zh.encode("gb18030"),
           "GB18030 HTML including a four-byte sequence (an emoji) and a Chinese IRI href.")

    tw = simple_html("\u8a02\u55ae\u5df2\u51fa\u8ca8", [
        "\u60a8\u597d\uff0c\u60a8\u7684\u8a02\u55ae\u5df2\u51fa\u8ca8\u3002\u8a31\u591a\u529f\u80fd\u5373\u5c07\u63a8\u51fa\u3002",
        "<a href=\"https://shop.example.com/tw/\u8a31\u529f?id=51124\">\u67e5\u770b\u8a02\u55ae</a>"],
        [("https://shop.example.com/tw/help", "\u5ba2\u670d")], charset_meta="big5")
    cs_msg("charset-big5", "Big5", tw.encode("big5"),
           "Big5 HTML with characters whose second byte is 0x5C (\u8a31, \u529f), including inside an href.")

    meta_only = simple_html("Meta only", ["Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e."],
                            [("https://cafe.example.org/dessert", "Desserts")], charset_meta="iso-8859-1")
    cs_msg("charset-meta-only", None, meta_only.encode("iso-8859-1"),
           "No charset parameter in Content-Type; the charset comes only from <meta charset>.")

    heq = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\"></head>"
           "<body><p>Ol\u00e1, informa\u00e7\u00e3o importante.</p>"
           "<p><a href=\"https://www.example.com/informa\u00e7\u00e3o\">mais</a></p></body></html>\n")
    cs_msg("charset-meta-http-equiv-only", None, heq.encode("iso-8859-1"),
           "No charset parameter; the charset is declared by <meta http-equiv=\"Content-Type\">.")

    cs_msg("charset-header-meta-conflict", '"utf-8"', B(meta_only.replace("iso-8859-1", "windows-1251")),
           "The Content-Type says utf-8 while <meta> says windows-1251: the header wins and the bytes are preserved.")
    cs_msg("charset-unknown-name", '"x-unknown-charset-42"', meta_only.encode("iso-8859-1"),
           "An unknown charset name: ASCII links are still handled and non-ASCII bytes pass through unchanged.")
    cs_msg("charset-us-ascii-with-8bit-bytes", "us-ascii", meta_only.encode("iso-8859-1"),
           "charset=us-ascii while the body contains 8-bit bytes (a common mislabelling).")


# ---------------------------------------------------------------- policy & exit cases

POLICY_HTML = """<!DOCTYPE html>
<html><body>
<p>Policy check for {set}.</p>
<p><a href="https://www.example.com/secure-link">https link</a></p>
<p><a href="http://www.example.com/plain-link">http link</a></p>
<p><a href="mailto:help@example.com">mail link</a></p>
{{{{ses:openTracker}}}}
</body></html>
"""


def policy_msg(name, set_header, desc, args=None, exit_status=0, config=None, extra=()):
    ex = list(extra)
    if set_header is not None:
        ex.append("X-SES-CONFIGURATION-SET: " + set_header)
    ex.append('Content-Type: multipart/alternative; boundary="pol-b"')
    h = headers("Policy Sender <policy@example.com>", "rcpt@example.org", "Policy " + name,
                "Thu, 21 Mar 2024 12:00:00 +0000", "<%s@example.com>" % name, ex)
    body = multipart("pol-b", [text_part("See https://www.example.com/secure-link\n"),
                               html_part(POLICY_HTML.format(set=set_header or "the default set"))])
    write_case(name, eolify(message(h, body), CRLF), desc, args=args, exit_status=exit_status, config=config)


def policy_cases():
    policy_msg("policy-require-marketing", "marketing",
               "HttpsPolicy REQUIRE (marketing): click and open URLs use https even for http destinations.")
    policy_msg("policy-optional", "optional",
               "HttpsPolicy OPTIONAL: http links get an http click URL and https links an https one.")
    policy_msg("policy-require-open-only", "openonly",
               "HttpsPolicy REQUIRE_OPEN_ONLY: the open pixel is https while click URLs follow each link's scheme.")
    policy_msg("policy-clicks-only", "clicks-only",
               "A set whose only event destination matches CLICK: links are wrapped but no open pixel is added and the placeholder is removed.")
    policy_msg("policy-opens-only", "opens-only",
               "A set whose only event destination matches OPEN: the pixel is added but links are not wrapped.")
    policy_msg("policy-no-domain", "no-domain",
               "A set with no TrackingOptions/CustomRedirectDomain: the message passes without tracking.")
    policy_msg("policy-default-set", None,
               "No X-SES-CONFIGURATION-SET header: the DefaultConfigurationSet (marketing) applies.")
    policy_msg("policy-header-lowercase-name-padded-value", None,
               "The header written as 'x-ses-configuration-set' with surrounding whitespace in the value selects 'optional'.",
               extra=["x-ses-configuration-set:    optional   "])
    policy_msg("policy-configuration-set-argument", None,
               "--configuration-set optional on the command line selects the set when the message has no header.",
               args=["--configuration-set", "optional"])
    policy_msg("policy-header-and-argument", "openonly",
               "Both the header (openonly) and --configuration-set optional are given: guards which one wins.",
               args=["--configuration-set", "optional"])
    policy_msg("policy-duplicate-set-headers", "optional",
               "Two X-SES-CONFIGURATION-SET headers naming different sets: guards which one is used.",
               extra=["X-SES-CONFIGURATION-SET: clicks-only"])
    policy_msg("policy-message-tags", "marketing",
               "X-SES-MESSAGE-TAGS with several tags, odd spacing and an empty entry is parsed and removed.",
               extra=["X-SES-MESSAGE-TAGS: campaign=spring, cohort=b,,  region = north ,bad tag=x"])

    disabled = {
        "ConfigurationSets": [
            {"ConfigurationSetName": "marketing",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"},
             "EventDestinations": [{"Name": "off", "Enabled": False, "MatchingEventTypes": ["OPEN", "CLICK"]}]}],
        "DefaultConfigurationSet": "marketing",
        "SigningKeys": [{"KeyId": "corpus1", "Secret": SECRET}],
    }
    policy_msg("policy-disabled-event-destination", "marketing",
               "With its own config: the only event destination is disabled, guarding whether tracking still happens.",
               config=disabled)

    rotated = {
        "ConfigurationSets": [
            {"ConfigurationSetName": "marketing",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}}],
        "DefaultConfigurationSet": "marketing",
        "SigningKeys": [{"KeyId": "corpus2", "Secret": base64.b64encode(b"linktrack-corpus-demo-key-000002").decode()},
                        {"KeyId": "corpus1", "Secret": SECRET}],
    }
    policy_msg("policy-two-signing-keys", "marketing",
               "With its own config holding two signing keys: the first listed key (corpus2) signs the tracking URLs.",
               config=rotated)


def exit_cases():
    policy_msg("exit-unknown-configuration-set", "does-not-exist",
               "X-SES-CONFIGURATION-SET names a set that does not exist: the message is rejected with exit status 65.",
               exit_status=65)
    policy_msg("exit-unknown-configuration-set-pass", "does-not-exist",
               "An unknown configuration set with --unknown-configuration-set pass: the message is delivered (exit 0).",
               args=["--unknown-configuration-set", "pass"])
    policy_msg("exit-unknown-configuration-set-argument", None,
               "--configuration-set names a set that does not exist: the message is rejected with exit status 65.",
               args=["--configuration-set", "nope"], exit_status=65)
    nokeys = {
        "ConfigurationSets": [
            {"ConfigurationSetName": "marketing",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}}],
        "DefaultConfigurationSet": "marketing",
    }
    policy_msg("exit-config-without-signing-keys", "marketing",
               "A config without SigningKeys is a configuration error: exit status 78.", exit_status=78, config=nokeys)
    empty = dict(nokeys, SigningKeys=[])
    policy_msg("exit-config-empty-signing-keys", "marketing",
               "A config whose SigningKeys list is empty is a configuration error: exit status 78.", exit_status=78,
               config=empty)


SECRET = base64.b64encode(b"linktrack-corpus-demo-key-000001").decode()

DEFAULT_CONFIG = {
    "ConfigurationSets": [
        {"ConfigurationSetName": "marketing",
         "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"},
         "EventDestinations": [{"Name": "tracking", "Enabled": True, "MatchingEventTypes": ["OPEN", "CLICK"]}]},
        {"ConfigurationSetName": "optional",
         "TrackingOptions": {"CustomRedirectDomain": "track.example.net", "HttpsPolicy": "OPTIONAL"}},
        {"ConfigurationSetName": "openonly",
         "TrackingOptions": {"CustomRedirectDomain": "t.example.org", "HttpsPolicy": "REQUIRE_OPEN_ONLY"}},
        {"ConfigurationSetName": "clicks-only", "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
         "EventDestinations": [{"Name": "c", "Enabled": True, "MatchingEventTypes": ["CLICK"]}]},
        {"ConfigurationSetName": "opens-only", "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
         "EventDestinations": [{"Name": "o", "Enabled": True, "MatchingEventTypes": ["OPEN"]}]},
        {"ConfigurationSetName": "no-domain"},
    ],
    "DefaultConfigurationSet": "marketing",
    "SigningKeys": [{"KeyId": "corpus1", "Secret": SECRET}],
}


# ---------------------------------------------------------------- malformed header blocks (issue 16, item 12)

MALFORMED_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Spring sale</title></head>
<body>
<p>Our spring sale starts today.</p>
<p><a href="https://shop.example.com/sale?src=mail">See the sale</a></p>

<p>Questions? <a href="https://help.example.com/contact">Contact us</a>.</p>
</body></html>
"""


def malformed_header_cases():
    base = ["From: Pine Hardware <news@shop.example.com>", "To: sam@example.net",
            "Subject: Spring sale", "Date: Mon, 18 Mar 2024 09:00:00 +0000"]

    def msg(fields, body, eol=LF):
        return eolify(B("\n".join(fields) + "\n") + B(body), eol)

    write_case("mime-malformed-header-no-blank-line",
               msg(base + ["Message-ID: <sale.1@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"'], MALFORMED_HTML),
               "No empty line between the header block and the body, which starts with <!DOCTYPE html>. "
               "RFC 5322 2.2: a line that is neither a field nor a folded line cannot belong to the header block, and "
               "Python's email reads the body from it; in a text/html entity a line that starts HTML markup is clearly "
               "the body's start, so the part is tracked (both links, the pixel) and the missing empty line stays missing.")
    write_case("mime-malformed-header-no-blank-line-no-message-id",
               msg(base + ["MIME-Version: 1.0", 'Content-Type: text/html; charset="utf-8"'], MALFORMED_HTML, CRLF),
               "No empty line before the HTML body, CRLF, and no Message-ID: the added Message-ID goes at the end of the "
               "fields, before the body's first line, where every reader takes it for a header field.")
    b = "=_alt_no_blank"
    body = multipart(b, [
        text_part("Our spring sale starts today: https://shop.example.com/sale\n"),
        'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n'
        + qp(MALFORMED_HTML) + "\n",
    ])
    write_case("mime-malformed-header-no-blank-line-in-part",
               msg(base + ["Message-ID: <sale.2@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: multipart/alternative; boundary="%s"' % b], b"\n" + body),
               "In a multipart/alternative, the quoted-printable HTML part's header block runs straight into its body: "
               "the part is tracked; the text part is untouched.")
    b = "=_mixed_no_blank"
    body = multipart(b, [html_part(MALFORMED_HTML)])
    write_case("mime-malformed-header-no-blank-line-multipart",
               msg(base + ["Message-ID: <sale.3@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: multipart/mixed; boundary="%s"' % b], body),
               "The top-level multipart/mixed header block is followed directly by its first delimiter line: the "
               "multipart is walked and its HTML part tracked.")
    write_case("mime-malformed-header-no-blank-line-text-then-markup",
               msg(base + ["Message-ID: <sale.4@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"'],
                   "Our spring sale starts today.\n<p><a href=\"https://shop.example.com/sale\">See the sale</a></p>\n"),
               "A text/html entity whose first line after the fields is text, then a line of markup, with no empty line "
               "anywhere. Python's email reads the body from the text line; the part is tracked from the first line of "
               "markup, and the text line is left as it is.")
    write_case("mime-malformed-header-no-blank-line-no-markup",
               msg(base + ["Message-ID: <sale.10@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"'],
                   "Our spring sale starts today: https://shop.example.com/sale\nSee you soon.\n"),
               "A text/html entity followed, with no empty line, by lines that are neither header fields nor markup: "
               "where an HTML body would start is not clear, so the message passes through untouched (it ends inside "
               "its header block).")
    write_case("mime-malformed-header-no-blank-line-text-plain",
               msg(base + ["Message-ID: <sale.11@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/plain; charset="utf-8"'], MALFORMED_HTML),
               "A text/plain entity followed by HTML with no empty line: not an HTML part, so nothing is tracked.")
    write_case("mime-malformed-header-duplicate-content-type-agree",
               msg(base + ["Message-ID: <sale.5@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"', "Content-Type: text/html", ""], MALFORMED_HTML),
               "Two Content-Type fields that name the same type: tracked (charset from the first field that gives one).")
    write_case("mime-malformed-header-duplicate-content-type-no-type",
               msg(base + ["Message-ID: <sale.6@shop.example.com>", "MIME-Version: 1.0",
                           "Content-Type: text/html", "Content-Type: charset=utf-8", ""], MALFORMED_HTML),
               "A second Content-Type field that names no type at all (charset=utf-8). Python's email, MimeKit and mime4j "
               "read the first field, the only one that names a type, so the part is tracked; it passed through untouched "
               "before, when the last field counted.")
    b = "=_alt_conflict"
    body = multipart(b, [
        'Content-Type: text/plain; charset="utf-8"\nContent-Type: text/html; charset="utf-8"\n\n'
        + MALFORMED_HTML,
        html_part(MALFORMED_HTML),
    ])
    write_case("mime-malformed-header-duplicate-content-type-conflict",
               msg(base + ["Message-ID: <sale.7@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: multipart/alternative; boundary="%s"' % b, ""], body),
               "A part with Content-Type text/plain, then text/html: readers that take the first field (Python's email, "
               "MimeKit, mime4j) see plain text, others HTML, so the part passes through untouched with a warning; the "
               "second part is tracked.")
    write_case("mime-malformed-header-line-without-colon",
               msg(base + ["Message-ID: <sale.8@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"', "X-Mailer BulkSender 2.1"], MALFORMED_HTML),
               "A header line without a colon (X-Mailer BulkSender 2.1), then the HTML with no empty line: the body starts "
               "at the first line of markup; the line without a colon stays where it is, untouched.")
    write_case("mime-malformed-header-line-without-colon-then-blank",
               msg(base + ["MIME-Version: 1.0", 'Content-Type: text/html; charset="utf-8"',
                           "X-Mailer BulkSender 2.1", ""], MALFORMED_HTML),
               "A header line without a colon, then the empty line and the body: tracked as before; the added Message-ID "
               "goes before the line without a colon, since Python's email reads the body from that line.")
    write_case("mime-malformed-header-line-without-colon-mime-field-after",
               msg(base + ["Message-ID: <sale.9@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"', "X-Mailer BulkSender 2.1",
                           "Content-Transfer-Encoding: 7bit", ""], MALFORMED_HTML),
               "A Content-Transfer-Encoding field after a header line without a colon: a header field for MimeKit and "
               "mime4j, body text for Python's email. Readers disagree on it, so the part passes through untouched.")
    write_case("mime-malformed-header-mime-field-after-bare-cr",
               msg(base + ["Message-ID: <sale.10@shop.example.com>", "MIME-Version: 1.0",
                           'Content-Type: text/html; charset="utf-8"', "\rContent-Transfer-Encoding: 7bit", ""],
                   MALFORMED_HTML),
               "A line that starts with a bare CR, then Content-Transfer-Encoding: a header field to readers that end "
               "lines at a bare CR too (Python's email), a line that is no header field to those that end lines at LF "
               "only. Readers disagree on it, so the part passes through untouched (found by the MIME fuzz target).")


# ---------------------------------------------------------------- link rules beyond SES (issue 21)

def rules_config(options):
    """DEFAULT_CONFIG with its default set given LinkTrackOptions."""
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config["ConfigurationSets"][0]["LinkTrackOptions"] = options
    return config


def rules_cases():
    base = ["From: News <news@shop.example.com>", "To: reader@example.net", "Subject: Rules",
            "Date: Tue, 01 Dec 2026 09:00:00 +0000"]

    def msg(fields, html, eol=CRLF):
        return eolify(B("\n".join(base + fields + ["MIME-Version: 1.0", 'Content-Type: text/html; charset="utf-8"', ""])
                        + "\n") + B(html), eol)

    unsubscribe_html = (
        "<html><body>\n<p><a href=\"https://shop.example.com/sale\">Sale</a></p>\n"
        "<p><a href=\"https://shop.example.com/unsub?u=7&amp;l=news\">Unsubscribe</a> or\n"
        "<a href=\" HTTPS://SHOP.example.com/unsub/other \">this one</a> or\n"
        "<a href=\"mailto:unsub@shop.example.com\">by mail</a>, not\n"
        "<a href=\"https://shop.example.com/unsub?u=7&amp;l=other\">another list</a></p>\n</body></html>\n")
    write_case("rules-list-unsubscribe-links-stay-untracked",
               msg(["Message-ID: <rules.1@shop.example.com>",
                    "List-Unsubscribe: <mailto:unsub@shop.example.com?subject=stop> (by mail),",
                    " <https://shop.example.com/unsub?u=7&l=news>,",
                    "\t<https://shop.example.com/unsub/other>",
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click"], unsubscribe_html),
               "A folded List-Unsubscribe with a comment and three URLs: the links equal to one of them (after "
               "character references are decoded, whitespace trimmed, scheme and host in any case) stay untracked; "
               "a link to another list and the sale link are tracked. RFC 8058 one-click alongside.")
    write_case("rules-list-unsubscribe-tracked-when-asked",
               msg(["Message-ID: <rules.2@shop.example.com>", "List-Unsubscribe: <https://shop.example.com/unsub?u=7&l=news>"],
                   unsubscribe_html),
               "TrackUnsubscribeLinks true: the unsubscribe link is tracked like any other.",
               config=rules_config({"TrackUnsubscribeLinks": True}))

    excluded_html = (
        "<html><body>\n<p><a href=\"https://partner.example/offer\">partner</a>\n"
        "<a href=\"https://www.partner.example/offer\">partner's www</a>\n"
        "<a href=\"https://bank.example/\">bank apex</a>\n"
        "<a href=\"https://login.BANK.example/account\">bank login</a>\n"
        "<a href=\"https://a.b.bank.example:8443/x\">deep bank</a>\n"
        "<a href=\"https://xn--bcher-kva.example/buch\">b\u00fccher, punycode</a>\n"
        "<a href=\"https://b\u00fccher.example/buch\">b\u00fccher, unicode</a>\n"
        "<a href=\"https://shop.example.com/\">shop</a></p>\n</body></html>\n")
    write_case("rules-excluded-domains-exact-wildcard-idn",
               msg(["Message-ID: <rules.3@shop.example.com>"], excluded_html),
               "ExcludedDomains partner.example (that host only), *.bank.example (subdomains at any depth, not the "
               "apex) and b\u00fccher.example given in Unicode: links to the punycode and the Unicode spelling both "
               "stay untracked, as do the bank's subdomains; the partner's www, the bank's apex and the shop are tracked.",
               config=rules_config({"ExcludedDomains": ["partner.example", "*.bank.example", "b\u00fccher.example"]}))

    optout_html = (
        "<html><body>\n<p><a clicktracking=off href=\"https://shop.example.com/sg\">SendGrid off</a>\n"
        "<a href=\"https://shop.example.com/sg-on\" clicktracking=\"on\">SendGrid on</a>\n"
        "<a href=\"https://shop.example.com/pm\" data-pm-no-track>Postmark</a>\n"
        "<a\tmc:disable-tracking\thref=\"https://shop.example.com/md\">Mandrill</a>\n"
        "<a href=\"https://shop.example.com/sp\"   data-msys-clicktrack=\"0\" >SparkPost</a>\n"
        "<a href=\"https://shop.example.com/sp1\" data-msys-clicktrack=\"1\">SparkPost on</a>\n"
        "<a href=\"https://shop.example.com/ses\" ses:no-track>SES</a></p>\n</body></html>\n")
    write_case("rules-other-opt-out-attributes-honoured",
               msg(["Message-ID: <rules.4@shop.example.com>"], optout_html),
               "HonorOtherOptOutAttributes: SendGrid's clicktracking=off, Postmark's data-pm-no-track, Mandrill's "
               "mc:disable-tracking (between tabs) and SparkPost's data-msys-clicktrack=\"0\" keep their links "
               "untracked and are removed with the whitespace before them, as ses:no-track is; clicktracking=on and "
               "data-msys-clicktrack=\"1\" are ordinary attributes, kept, and their links tracked.",
               config=rules_config({"HonorOtherOptOutAttributes": True}))
    write_case("rules-other-opt-out-attributes-off-by-default",
               msg(["Message-ID: <rules.5@shop.example.com>"], optout_html),
               "Without HonorOtherOptOutAttributes the other services' attributes are ordinary attributes: kept, and "
               "their links tracked (only ses:no-track is obeyed).")

# ---------------------------------------------------------------- plain-text link tracking (issue 21, item 4)

def text_config(track_links_in):
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    for s in config["ConfigurationSets"]:
        if s["ConfigurationSetName"] == "optional":
            s["LinkTrackOptions"] = {"TrackLinksIn": track_links_in, "ExcludedDomains": ["partner.example.net"]}
    return config


TEXT_BOUNDARIES = """Hello,

Our catalogue: https://shop.example.com/catalogue.
Sizes (see https://shop.example.com/wiki/Size_(chart)) are new.
Bracketed: <https://shop.example.com/a?b=1&c=2>, and quoted "https://shop.example.com/q".
Home page: https://shop.example.com/ - questions? https://help.example.com/faq?
Partner: https://partner.example.net/offer
Unsubscribe: https://shop.example.com/unsubscribe?u=42
Not links: mailto:help@example.com, ftp://files.example.com/x, xhttps://shop.example.com/no

> On Monday you wrote:
> https://shop.example.com/quoted-reply
-- 
Kestrel Cycles
"""

TEXT_HTML = """<!DOCTYPE html>
<html><body>
<p><a href="https://shop.example.com/catalogue">Catalogue</a> and <a href="https://shop.example.com/sale">sale</a>.</p>
</body></html>
"""


def text_cases():
    def hdrs(name, extra):
        return headers("Kestrel Cycles <news@example.com>", "rider@example.org", "Text " + name,
                       "Fri, 22 Mar 2024 09:00:00 +0000", "<%s@example.com>" % name,
                       ["X-SES-CONFIGURATION-SET: optional"] + list(extra))
    unsub = ["List-Unsubscribe: <mailto:unsub@example.com>,\n <https://shop.example.com/unsubscribe?u=42>"]
    write_case("text-boundaries-7bit",
               eolify(message(hdrs("text-boundaries-7bit", unsub + ['Content-Type: text/plain; charset="utf-8"',
                                                                    "Content-Transfer-Encoding: 7bit"]), TEXT_BOUNDARIES), CRLF),
               "TrackLinksIn HTML_AND_TEXT: a 7bit text/plain message with every URL boundary case: trailing period, "
               "balanced parenthesis, angle brackets, quotes, a trailing slash (escaped as %2F in the tracking URL), a "
               "trailing question mark; the excluded domain, the List-Unsubscribe URL, other schemes and the quoted "
               "reply stay untracked.", config=text_config("HTML_AND_TEXT"))
    write_case("text-quoted-printable-soft-break",
               eolify(message(hdrs("text-quoted-printable-soft-break", ['Content-Type: text/plain; charset="utf-8"',
                                                                        "Content-Transfer-Encoding: quoted-printable"]),
                              qp("Your order: https://shop.example.com/orders/2024/03/22/0000417?view=summary&lang=en-GB&ref=mail-footer\n"
                                 "Thanks = see you soon.\n")), CRLF),
               "A quoted-printable text part whose URL is wrapped by a soft line break (and holds =3D): tracked whole, the "
               "part re-wrapped by the splice.", config=text_config("HTML_AND_TEXT"))
    write_case("text-base64",
               eolify(message(hdrs("text-base64", ['Content-Type: text/plain; charset="utf-8"',
                                                   "Content-Transfer-Encoding: base64"]),
                              b64("Track your parcel at https://shop.example.com/track/9912.\nThanks!\n")), CRLF),
               "A base64 text part: decoded, its URL tracked, re-encoded with the same line layout.",
               config=text_config("HTML_AND_TEXT"))
    write_case("text-flowed",
               eolify(message(hdrs("text-flowed", ['Content-Type: text/plain; charset="utf-8"; format=flowed; delsp=yes',
                                                   "Content-Transfer-Encoding: 7bit"]),
                              "Read the whole story at https://shop.example.com/blog/2024/ \nspring-rides-in-the-hills today. \n"
                              "It is a long one.\n> Earlier: https://shop.example.com/quoted \n> more\n"), CRLF),
               "format=flowed with DelSp=yes: a URL wrapped by a flowed soft break is replaced whole by one tracking URL "
               "on one line; the quoted reply stays.", config=text_config("HTML_AND_TEXT"))
    write_case("text-alternative-both-tracked",
               eolify(message(hdrs("text-alternative-both-tracked", ['Content-Type: multipart/alternative; boundary="tx-b"']),
                              multipart("tx-b", [text_part("Catalogue: https://shop.example.com/catalogue\n"
                                                           "Sale: https://shop.example.com/sale\n"),
                                                 html_part(TEXT_HTML)])), CRLF),
               "multipart/alternative with TrackLinksIn HTML_AND_TEXT: the text part's links get indexes 0 and 1, the "
               "HTML part's 2 and 3; the HTML part gets the open pixel.", config=text_config("HTML_AND_TEXT"))
    write_case("text-only-html-keeps-links",
               eolify(message(hdrs("text-only-html-keeps-links", ['Content-Type: multipart/alternative; boundary="tx-b"']),
                              multipart("tx-b", [text_part("Catalogue: https://shop.example.com/catalogue\n"),
                                                 html_part(TEXT_HTML)])), CRLF),
               "TrackLinksIn TEXT: the text part's link is tracked; the HTML part keeps its links and gets the open pixel.",
               config=text_config("TEXT"))


def main():
    with open(os.path.join(ROOT, "config.json"), "w") as f:
        json.dump(DEFAULT_CONFIG, f, indent=2)
        f.write("\n")
    html_cases()
    mime_cases()
    enc_cases()
    charset_cases()
    policy_cases()
    exit_cases()
    malformed_header_cases()
    rules_cases()
    text_cases()
    print("%d cases written" % len(SEEN))


if __name__ == "__main__":
    main()
