import Testing
@testable import LinkTrack

/// What a row expects of one link in the report, in document order.
enum HTMLRewriterLinkExpectation: Sendable, Equatable {
    case tracked(index: Int)
    case untracked(UntrackedReason)
}

/// What a row expects of the pixel.
enum HTMLRewriterPixelExpectation: Sendable, Equatable {
    case inserted(PixelPlacement)
    case opensNotTracked
    case alreadyPresent
    case emptyDocument
}

/// One rule of the rewriter: input HTML, the exact expected output (a template for
/// ``HTMLRewriterFixture/expand(_:)``) and what the report must say.
struct HTMLRewriterCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var expected: String
    var links: [HTMLRewriterLinkExpectation]
    var pixel: HTMLRewriterPixelExpectation
    var policy: HttpsPolicy = .optional
    var opens = true
    var clicks = true
    /// A substring that one warning must contain; nil: no warnings at all.
    var warning: String?
    var untouched = false
    /// Whether rewriting the output again must change nothing. Not for `ses:no-track`: SES removes the
    /// attribute, so a second pass tracks the link.
    var idempotent = true

    var testDescription: String { name }
}

/// A row for a link that must be left exactly as written (with the pixel before `</body>`).
private func untracked(_ name: String, href: String, _ reason: UntrackedReason) -> HTMLRewriterCase {
    HTMLRewriterCase(
        name: "not tracked: \(name)",
        input: "<body><a href=\"\(href)\">x</a></body>",
        expected: "<body><a href=\"\(href)\">x</a>⟦p⟧</body>",
        links: [.untracked(reason)], pixel: .inserted(.beforeBodyClose))
}

private let alreadyTrackedHref = String(
    decoding: HTMLRewriterFixture.href("https://example.com/", index: 0, scheme: .https), as: UTF8.self)
private let longDestination = "https://example.com/" + String(repeating: "a", count: 2100)
private let gmailFiller = String(repeating: "Lorem ipsum dolor sit amet. ", count: 3800)  // 106,400 bytes

let htmlRewriterCases: [HTMLRewriterCase] = [
    // MARK: Tracked links
    HTMLRewriterCase(
        name: "tracked <a>",
        input: "<html><body><a href=\"https://example.com/a\">A</a></body></html>",
        expected: "<html><body><a href=\"⟦c 0 https://example.com/a⟧\">A</a>⟦p⟧</body></html>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "tracked <area>",
        input: "<body><map name=\"m\"><area shape=\"rect\" coords=\"0,0,9,9\" href=\"http://example.com/area\"></map></body>",
        expected: "<body><map name=\"m\"><area shape=\"rect\" coords=\"0,0,9,9\" href=\"⟦c 0 http://example.com/area⟧\"></map>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "Outlook conditional comment: VML roundrect and its !mso twin",
        input: "<body><!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" href=\"https://example.com/btn\" style=\"height:40px\"><w:anchorlock/><center>Go</center></v:roundrect><![endif]-->"
            + "<!--[if !mso]><!-- --><a href=\"https://example.com/btn\">Go</a><!--<![endif]--></body>",
        expected: "<body><!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" href=\"⟦c 0 https://example.com/btn⟧\" style=\"height:40px\"><w:anchorlock/><center>Go</center></v:roundrect><![endif]-->"
            + "<!--[if !mso]><!-- --><a href=\"⟦c 1 https://example.com/btn⟧\">Go</a><!--<![endif]-->⟦p⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "conditional comment: end tags, declarations and script text are skipped; uppercase, unquoted HREF is read",
        input: "<body><!--[if gte mso 9]><!DOCTYPE x><?xml v?></td><script>var s = \"<a href='https://example.com/s'>\";</script>"
            + "<STYLE>a[href=\"https://example.com/y\"]{}</STYLE><V:OVAL HREF=https://example.com/u>U</V:OVAL><![endif]--></body>",
        expected: "<body><!--[if gte mso 9]><!DOCTYPE x><?xml v?></td><script>var s = \"<a href='https://example.com/s'>\";</script>"
            + "<STYLE>a[href=\"https://example.com/y\"]{}</STYLE><V:OVAL HREF=\"⟦c 0 https://example.com/u⟧\">U</V:OVAL><![endif]-->⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "conditional comment: an href inside another attribute's value is not a link",
        input: "<body><!--[if mso]><v:rect title=\"x><a href=\"https://example.com/a\">A</a><![endif]--></body>",
        expected: "<body><!--[if mso]><v:rect title=\"x><a href=\"https://example.com/a\">A</a><![endif]-->⟦p⟧</body>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "conditional comment: an unterminated nested comment or quote ends the scan",
        input: "<body><!--[if mso]><v:rect href=\"https://example.com/1\"/><!-- <a href=\"https://example.com/2\"><![endif]-->"
            + "<!--[if mso]><v:rect href=\"https://example.com/3\"><v:rect alt='open href=\"https://example.com/4\"><![endif]--></body>",
        expected: "<body><!--[if mso]><v:rect href=\"⟦c 0 https://example.com/1⟧\"/><!-- <a href=\"https://example.com/2\"><![endif]-->"
            + "<!--[if mso]><v:rect href=\"⟦c 1 https://example.com/3⟧\"><v:rect alt='open href=\"https://example.com/4\"><![endif]-->⟦p⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "&amp; round trip: the token holds &, the href &amp;",
        input: "<body><a href=\"https://example.com/?a=1&amp;b=2\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/?a=1&b=2⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "&region=1 stays as written in the destination",
        input: "<body><a href=\"https://example.com/?lang=en&region=1&copy=2\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/?lang=en&region=1&copy=2⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "&#38; and &#x26; decode to &",
        input: "<body><a href=\"https://example.com/?a=1&#38;b=2&#x26;c=3\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/?a=1&b=2&c=3⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "unquoted attribute gets quotes",
        input: "<body><a class=btn href=https://example.com/u?a=1 target=_blank>x</a></body>",
        expected: "<body><a class=btn href=\"⟦c 0 https://example.com/u?a=1⟧\" target=_blank>x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "single-quoted attribute keeps its quote",
        input: "<body><a href='https://example.com/s' title='t'>x</a></body>",
        expected: "<body><a href='⟦c 0 https://example.com/s⟧' title='t'>x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "uppercase <A HREF=...>",
        input: "<BODY><A HREF=\"https://example.com/U\">x</A></BODY>",
        expected: "<BODY><A HREF=\"⟦c 0 https://example.com/U⟧\">x</A>⟦p⟧</BODY>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "leading and trailing whitespace in href is trimmed from the destination",
        input: "<body><a href=\" \t\nhttps://example.com/w \r\n\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/w⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "scheme case HTTPS:// is tracked, destination as written",
        input: "<body><a href=\"HTTPS://Example.COM/Case\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 HTTPS://Example.COM/Case scheme=https⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),

    // MARK: Not tracked
    untracked("mailto", href: "mailto:someone@example.com", .scheme("mailto")),
    untracked("tel", href: "tel:+15555550100", .scheme("tel")),
    untracked("sms", href: "sms:+15555550100", .scheme("sms")),
    untracked("javascript", href: "javascript:alert(1)", .scheme("javascript")),
    untracked("data", href: "data:text/plain,hi", .scheme("data")),
    untracked("file", href: "file:///etc/passwd", .scheme("file")),
    untracked("ftp", href: "ftp://ftp.example.com/f", .scheme("ftp")),
    untracked("fragment", href: "#top", .fragment),
    untracked("relative", href: "/account/settings", .relative),
    untracked("scheme-relative", href: "//cdn.example.com/x", .relative),
    untracked("template {{url}}", href: "{{url}}", .relative),
    untracked("template inside a URL", href: "https://example.com/?u={{id}}", .invalidURL("the character '{', which RFC 3986 forbids")),
    untracked("merge tag *|UNSUB|*", href: "*|UNSUB|*", .relative),
    untracked("unencoded space", href: "https://example.com/a b", .invalidURL("an unencoded space")),
    untracked("no host", href: "https:///path", .invalidURL("no host")),
    untracked("already on the redirect domain", href: alreadyTrackedHref, .alreadyTracked),
    untracked("already on the redirect domain, host in capitals", href: "HTTPS://TRACK.EXAMPLE.COM/c/x", .alreadyTracked),
    HTMLRewriterCase(
        name: "not tracked: links in <head> and <title>",
        input: "<html><head><title><a href=\"https://example.com/t\">t</a></title><link rel=\"stylesheet\" href=\"https://example.com/css\"></head><body><p>x</p></body></html>",
        expected: "<html><head><title><a href=\"https://example.com/t\">t</a></title><link rel=\"stylesheet\" href=\"https://example.com/css\"></head><body><p>x</p>⟦p⟧</body></html>",
        links: [.untracked(.inRawText)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "not tracked: links in <textarea> and <xmp>",
        input: "<body><textarea><a href=\"https://example.com/ta\">t</a></textarea><xmp><a href=\"https://example.com/x\">x</a></xmp><a href=\"https://example.com/ok\">ok</a></body>",
        expected: "<body><textarea><a href=\"https://example.com/ta\">t</a></textarea><xmp><a href=\"https://example.com/x\">x</a></xmp><a href=\"⟦c 0 https://example.com/ok⟧\">ok</a>⟦p⟧</body>",
        links: [.untracked(.inRawText), .untracked(.inRawText), .tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "not tracked: links in <script>, <style> and ordinary comments",
        input: "<body><script>var s = '<a href=\"https://example.com/s\">s</a>';</script><style>/* <a href=\"https://example.com/st\"> */</style><!-- <a href=\"https://example.com/c\">c</a> --><a href=\"https://example.com/ok\">ok</a></body>",
        expected: "<body><script>var s = '<a href=\"https://example.com/s\">s</a>';</script><style>/* <a href=\"https://example.com/st\"> */</style><!-- <a href=\"https://example.com/c\">c</a> --><a href=\"⟦c 0 https://example.com/ok⟧\">ok</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),

    // MARK: ses: attributes
    HTMLRewriterCase(
        name: "ses:no-track: attribute removed, link untouched",
        input: "<body><a ses:no-track href=\"https://example.com/n\">n</a><a href=\"https://example.com/m\" ses:no-track=\"\">m</a></body>",
        expected: "<body><a href=\"https://example.com/n\">n</a><a href=\"https://example.com/m\">m</a>⟦p⟧</body>",
        links: [.untracked(.noTrack), .untracked(.noTrack)], pixel: .inserted(.beforeBodyClose), idempotent: false),
    HTMLRewriterCase(
        name: "ses:tags: attribute removed, tags in the token",
        input: "<body><a href=\"https://example.com/t\" ses:tags=\"campaign:spring;variant:b;\" class=\"c\">t</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/t tags=campaign:spring;variant:b⟧\" class=\"c\">t</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "ses:tags malformed: warning, tracked without tags",
        input: "<body><a ses:tags=\"campaign=spring\" href=\"https://example.com/t\">t</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/t⟧\">t</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose), warning: "malformedLinkTags"),
    HTMLRewriterCase(
        name: "ses: attribute run together with what follows: left in place (removing it would glue that to the tag name)",
        input: "<body><a ses:no-track\"x\" href=\"https://example.com/n\">n</a></body>",
        expected: "<body><a ses:no-track\"x\" href=\"https://example.com/n\">n</a>⟦p⟧</body>",
        links: [.untracked(.noTrack)], pixel: .inserted(.beforeBodyClose), warning: "optOutAttributeRunTogether"),
    HTMLRewriterCase(
        name: "ses:tags with text right after its closing quote: left in place, tags still applied",
        input: "<body><a ses:tags=\"campaign:spring\"x href=\"https://example.com/t\">t</a></body>",
        expected: "<body><a ses:tags=\"campaign:spring\"x href=\"⟦c 0 https://example.com/t tags=campaign:spring⟧\">t</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose), warning: "optOutAttributeRunTogether"),
    // Issue 16, item 21: every ses: attribute of a tag goes, duplicates included, or none does.
    HTMLRewriterCase(
        name: "duplicate ses:no-track: both removed",
        input: "<body><a ses:no-track href=\"https://example.com/n\" SES:NO-TRACK>n</a></body>",
        expected: "<body><a href=\"https://example.com/n\">n</a>⟦p⟧</body>",
        links: [.untracked(.noTrack)], pixel: .inserted(.beforeBodyClose), idempotent: false),
    HTMLRewriterCase(
        name: "duplicate ses:tags, the second run together with text: both left in place, the first obeyed",
        input: "<body><a ses:tags=\"k:v\" href=\"https://example.com/t\" ses:tags=\"a:b\"x>t</a></body>",
        expected: "<body><a ses:tags=\"k:v\" href=\"⟦c 0 https://example.com/t tags=k:v⟧\" ses:tags=\"a:b\"x>t</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose), warning: "optOutAttributeRunTogether"),
    HTMLRewriterCase(
        name: "ses: attribute followed by '/', a tab or '>': removed",
        input: "<body><a href=\"https://example.com/a\" ses:no-track/>a</a><a ses:no-track\thref=\"https://example.com/b\">b</a><a href=\"https://example.com/c\" ses:tags=\"k:v\">c</a></body>",
        expected: "<body><a href=\"https://example.com/a\"/>a</a><a\thref=\"https://example.com/b\">b</a><a href=\"⟦c 0 https://example.com/c tags=k:v⟧\">c</a>⟦p⟧</body>",
        links: [.untracked(.noTrack), .untracked(.noTrack), .tracked(index: 0)], pixel: .inserted(.beforeBodyClose), idempotent: false),
    HTMLRewriterCase(
        name: "link index counts only tracked links",
        input: "<body><a href=\"mailto:a@example.com\">m</a><a href=\"https://example.com/1\">1</a><a href=\"#top\">t</a><a ses:no-track href=\"https://example.com/n\">n</a><a href=\"https://example.com/2\">2</a></body>",
        expected: "<body><a href=\"mailto:a@example.com\">m</a><a href=\"⟦c 0 https://example.com/1⟧\">1</a><a href=\"#top\">t</a><a href=\"https://example.com/n\">n</a><a href=\"⟦c 1 https://example.com/2⟧\">2</a>⟦p⟧</body>",
        links: [.untracked(.scheme("mailto")), .tracked(index: 0), .untracked(.fragment), .untracked(.noTrack), .tracked(index: 1)],
        pixel: .inserted(.beforeBodyClose), idempotent: false),

    // MARK: The open pixel
    HTMLRewriterCase(
        name: "pixel: first {{ses:openTracker}} replaced, others removed",
        input: "<body><p>{{ses:openTracker}}</p><div>{{ses:openTracker}}</div></body>",
        expected: "<body><p>⟦p⟧</p><div></div></body>",
        links: [], pixel: .inserted(.placeholder)),
    HTMLRewriterCase(
        name: "pixel: a placeholder in an attribute, comment or title is removed; the one in text gets the pixel",
        input: "<html><head><title>{{ses:openTracker}}</title></head><body><span title=\"{{ses:openTracker}}\">s</span>"
            + "<!-- {{ses:openTracker}} --><p>{{ses:openTracker}}</p></body></html>",
        expected: "<html><head><title></title></head><body><span title=\"\">s</span><!--  --><p>⟦p⟧</p></body></html>",
        links: [], pixel: .inserted(.placeholder)),
    // Fuzz finding `Fuzz/repro/html-only-placeholder-inside-attribute-value.html`.
    HTMLRewriterCase(
        name: "pixel: with no placeholder in text, it goes before </body>",
        input: "<body><span title=\"{{ses:openTracker}}\">s</span><script>var p = \"{{ses:openTracker}}\";</script></body>",
        expected: "<body><span title=\"\">s</span><script>var p = \"\";</script>⟦p⟧</body>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "pixel: before the first real </body>",
        input: "<!DOCTYPE html>\n<html>\n<body>\n<p>x</p>\n</body>\n</html>\n",
        expected: "<!DOCTYPE html>\n<html>\n<body>\n<p>x</p>\n⟦p⟧</body>\n</html>\n",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "pixel: </BODY > with blanks and capitals",
        input: "<body><p>x</p></BODY \n></html>",
        expected: "<body><p>x</p>⟦p⟧</BODY \n></html>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "pixel: not before </body> in a comment, a script or an attribute",
        input: "<body><!-- </body> --><script>var s = \"</body>\";</script><p title=\"</body>\">t</p></body></html>",
        expected: "<body><!-- </body> --><script>var s = \"</body>\";</script><p title=\"</body>\">t</p>⟦p⟧</body></html>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    // libxml2 ends the body at a </body> inside a <textarea> and ignores the real one; a browser reads
    // the first as text. The pixel goes to the end, where it still renders, never into the textarea.
    HTMLRewriterCase(
        name: "pixel: not before </body> in a <textarea>",
        input: "<body><textarea></body></textarea><p>x</p></body></html>",
        expected: "<body><textarea></body></textarea><p>x</p></body></html>⟦p⟧",
        links: [], pixel: .inserted(.endOfDocument)),
    HTMLRewriterCase(
        name: "pixel: multiple </body>, before the first",
        input: "<body><p>a</p></body><p>b</p></body></html>",
        expected: "<body><p>a</p>⟦p⟧</body><p>b</p></body></html>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "pixel: no <body> and no </body>, at the end",
        input: "<p>Hello <a href=\"https://example.com/\">x</a></p>",
        expected: "<p>Hello <a href=\"⟦c 0 https://example.com/⟧\">x</a></p>⟦p⟧",
        links: [.tracked(index: 0)], pixel: .inserted(.endOfDocument)),
    HTMLRewriterCase(
        name: "pixel: </body> without <body>",
        input: "<p>x</p></body>",
        expected: "<p>x</p>⟦p⟧</body>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "pixel: <body> without </body>, at the end",
        input: "<html><body><p>x</p></html>\n",
        expected: "<html><body><p>x</p></html>\n⟦p⟧",
        links: [], pixel: .inserted(.endOfDocument)),
    HTMLRewriterCase(
        name: "pixel: unterminated comment at the end, before it",
        input: "<body><p>x</p><!-- never closed <a href=\"https://example.com/c\">c</a>",
        expected: "<body><p>x</p>⟦p⟧<!-- never closed <a href=\"https://example.com/c\">c</a>",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated tag at the end, before it",
        input: "<body><p>x</p><div class=a",
        expected: "<body><p>x</p>⟦p⟧<div class=a",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated attribute value at the end, before it",
        input: "<body><p>x</p><img alt=\"oops><p>more</p>",
        expected: "<body><p>x</p>⟦p⟧<img alt=\"oops><p>more</p>",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated <a href at the end, before it, not tracked",
        input: "<body><p>x</p><a href=\"https://example.com/u",
        expected: "<body><p>x</p>⟦p⟧<a href=\"https://example.com/u",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated <script> at the end, before it",
        input: "<body><p>x</p><script>var a = 1;",
        expected: "<body><p>x</p>⟦p⟧<script>var a = 1;",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated <style> at the end, before it",
        input: "<body><p>x</p><style type=\"text/css\">p { color: red }",
        expected: "<body><p>x</p>⟦p⟧<style type=\"text/css\">p { color: red }",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "pixel: unterminated <textarea> at the end, before it",
        input: "<body><a href=\"https://example.com/\">x</a><textarea><p>y</p>",
        expected: "<body><a href=\"⟦c 0 https://example.com/⟧\">x</a>⟦p⟧<textarea><p>y</p>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeUnterminatedConstruct)),
    // Fuzz finding `Fuzz/repro/mime-placeholder-inside-tracking-prefix.eml`:
    // libxml2 reports a DOCTYPE that runs to the end of the document
    // as if it ended there; the pixel went inside it, where it never renders (and a second pass
    // added another).
    HTMLRewriterCase(
        name: "unterminated DOCTYPE: the pixel goes before it",
        input: "<!DOCTYPE html \"http://example.com/",
        expected: "⟦p⟧<!DOCTYPE html \"http://example.com/",
        links: [], pixel: .inserted(.beforeUnterminatedConstruct)),
    HTMLRewriterCase(
        name: "terminated DOCTYPE without a body: the pixel goes at the end",
        input: "<!DOCTYPE html><p>x</p>",
        expected: "<!DOCTYPE html><p>x</p>⟦p⟧",
        links: [], pixel: .inserted(.endOfDocument)),
    HTMLRewriterCase(
        name: "empty document: unchanged, no pixel",
        input: "", expected: "", links: [], pixel: .emptyDocument, untouched: true),
    HTMLRewriterCase(
        name: "whitespace-only document: unchanged, no pixel",
        input: " \r\n\t \n", expected: " \r\n\t \n", links: [], pixel: .emptyDocument, untouched: true),
    HTMLRewriterCase(
        name: "existing pixel on the redirect domain: no second pixel",
        input: "<body><p>x</p><img src=\"http://track.example.com/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA?m=a&amp;s=b\" alt=\"\"></body>",
        expected: "<body><p>x</p><img src=\"http://track.example.com/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA?m=a&amp;s=b\" alt=\"\"></body>",
        links: [], pixel: .alreadyPresent),
    HTMLRewriterCase(
        name: "existing pixel with an uppercase tag, attribute, scheme and host, single quotes: no second pixel",
        input: "<BODY><p>x</p><IMG ALT=\"\" SRC='HTTPS://Track.Example.COM/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA'></BODY>",
        expected: "<BODY><p>x</p><IMG ALT=\"\" SRC='HTTPS://Track.Example.COM/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA'></BODY>",
        links: [], pixel: .alreadyPresent),
    // Fuzz finding `Fuzz/repro/html-pixel-src-on-img-name-run-together.html`:
    // libxml2 reads `<img[i` as an `img`, a browser as an element named
    // `img[i`, which loads nothing: it is no pixel, and one is added.
    HTMLRewriterCase(
        name: "pixel URL on an <img whose name runs into other bytes: not a pixel, one is added",
        input: "<body><img[i src=\"http://track.example.com/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA?m=a&amp;s=b\"><p>x</p></body>",
        expected: "<body><img[i src=\"http://track.example.com/o/1.k1.AAAAAAAAAAAAAAAAAAAAAA?m=a&amp;s=b\"><p>x</p>⟦p⟧</body>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "image on the redirect domain outside /o/ is not a pixel",
        input: "<body><img src=\"https://track.example.com/logo.png\"></body>",
        expected: "<body><img src=\"https://track.example.com/logo.png\">⟦p⟧</body>",
        links: [], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "opens not tracked: links tracked, no pixel, placeholder removed",
        input: "<body>{{ses:openTracker}}<a href=\"https://example.com/\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/⟧\">x</a></body>",
        links: [.tracked(index: 0)], pixel: .opensNotTracked, opens: false),
    HTMLRewriterCase(
        name: "clicks not tracked: links untouched, pixel inserted",
        input: "<body><a href=\"https://example.com/\">x</a></body>",
        expected: "<body><a href=\"https://example.com/\">x</a>⟦p⟧</body>",
        links: [.untracked(.clicksNotTracked)], pixel: .inserted(.beforeBodyClose), clicks: false),

    // MARK: Malformed markup
    HTMLRewriterCase(
        name: "NUL bytes: positions stay exact",
        input: "<body>\u{0}<p>\u{0}</p><a href=\"https://example.com/n\">\u{0}x</a>\u{0}<a href=\"https://example.com/m\">y</a>\u{0}</body>",
        expected: "<body>\u{0}<p>\u{0}</p><a href=\"⟦c 0 https://example.com/n⟧\">\u{0}x</a>\u{0}<a href=\"⟦c 1 https://example.com/m⟧\">y</a>\u{0}⟦p⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "title=\"<a href=evil>\" is not a link",
        input: "<body><a title=\"<a href=evil>\" href=\"https://example.com/real\">x</a></body>",
        expected: "<body><a title=\"<a href=evil>\" href=\"⟦c 0 https://example.com/real⟧\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "duplicate href: the first wins",
        input: "<body><a href=\"https://example.com/first\" href=\"https://example.com/second\">x</a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/first⟧\" href=\"https://example.com/second\">x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "<a href=\"x\" <b>",
        input: "<body><a href=\"https://example.com/x\" <b>bold</b></a></body>",
        expected: "<body><a href=\"⟦c 0 https://example.com/x⟧\" <b>bold</b></a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "attributes split across lines",
        input: "<body><a\n  class=\"btn\"\r\n  href\n=\n\"https://example.com/ml\"\n  style=\"color:red\"\n>x</a></body>",
        expected: "<body><a\n  class=\"btn\"\r\n  href\n=\n\"⟦c 0 https://example.com/ml⟧\"\n  style=\"color:red\"\n>x</a>⟦p⟧</body>",
        links: [.tracked(index: 0)], pixel: .inserted(.beforeBodyClose)),
    HTMLRewriterCase(
        name: "too-long link stays untracked with a warning",
        input: "<body><a href=\"\(longDestination)\">x</a><a href=\"https://example.com/ok\">ok</a></body>",
        expected: "<body><a href=\"\(longDestination)\">x</a><a href=\"⟦c 0 https://example.com/ok⟧\">ok</a>⟦p⟧</body>",
        links: [.untracked(.tooLong(longDestination.utf8.count)), .tracked(index: 0)],
        pixel: .inserted(.beforeBodyClose), warning: "linkTooLong"),
    HTMLRewriterCase(
        name: "Gmail clipping warning above 102 KB",
        input: "<html><body><p>\(gmailFiller)</p></body></html>",
        expected: "<html><body><p>\(gmailFiller)</p>⟦p⟧</body></html>",
        links: [], pixel: .inserted(.beforeBodyClose), warning: "gmailClipping"),

    // MARK: HttpsPolicy
    HTMLRewriterCase(
        name: "HttpsPolicy OPTIONAL: clicks keep their scheme, pixel http",
        input: "<body><a href=\"http://example.com/h\">h</a><a href=\"https://example.com/s\">s</a></body>",
        expected: "<body><a href=\"⟦c 0 http://example.com/h scheme=http⟧\">h</a><a href=\"⟦c 1 https://example.com/s scheme=https⟧\">s</a>⟦p⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose), policy: .optional),
    HTMLRewriterCase(
        name: "HttpsPolicy REQUIRE_OPEN_ONLY: clicks keep their scheme, pixel https",
        input: "<body><a href=\"http://example.com/h\">h</a><a href=\"https://example.com/s\">s</a></body>",
        expected: "<body><a href=\"⟦c 0 http://example.com/h scheme=http⟧\">h</a><a href=\"⟦c 1 https://example.com/s scheme=https⟧\">s</a>⟦ps⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose), policy: .requireOpenOnly),
    HTMLRewriterCase(
        name: "HttpsPolicy REQUIRE: every click and the pixel https",
        input: "<body><a href=\"http://example.com/h\">h</a><a href=\"https://example.com/s\">s</a></body>",
        expected: "<body><a href=\"⟦c 0 http://example.com/h scheme=https⟧\">h</a><a href=\"⟦c 1 https://example.com/s scheme=https⟧\">s</a>⟦ps⟧</body>",
        links: [.tracked(index: 0), .tracked(index: 1)], pixel: .inserted(.beforeBodyClose), policy: .require),
]

@Suite("HTMLRewriter rules")
struct HTMLRewriterTests {
    typealias F = HTMLRewriterFixture

    @Test(arguments: htmlRewriterCases)
    func rule(_ row: HTMLRewriterCase) throws {
        let input = Array(html: row.input)
        let expected = F.expand(row.expected)
        let context = F.context(policy: row.policy, opens: row.opens, clicks: row.clicks)
        let result = F.rewrite(input, context: context)
        #expect(HTMLBytes(result.output) == HTMLBytes(expected))
        #expect(result.output == Splicer.apply(result.edits, to: input))
        #expect(htmlUndoMismatch(input: input, output: result.output, edits: result.edits) == nil)

        let report = result.report
        #expect((report.untouchedReason != nil) == row.untouched, "untouchedReason: \(report.untouchedReason.map(\.description) ?? "nil")")
        let links = report.links.map { link -> HTMLRewriterLinkExpectation in
            if let index = link.linkIndex, link.isTracked { return .tracked(index: index) }
            return .untracked(link.untrackedReason ?? .unlocated)
        }
        #expect(links == row.links)
        switch (report.pixel, row.pixel) {
        case (.inserted(let placement, _), .inserted(let wanted)): #expect(placement == wanted)
        case (.opensNotTracked, .opensNotTracked), (.alreadyPresent, .alreadyPresent), (.emptyDocument, .emptyDocument): break
        default: Issue.record("pixel outcome \(report.pixel), expected \(row.pixel)")
        }
        if case .inserted(_, let offset) = report.pixel {
            let pixel = F.pixel(scheme: row.policy.openScheme)
            #expect(result.edits.edits.contains { $0.range.lowerBound == offset && $0.replacement == pixel })
        }
        if let warning = row.warning {
            #expect(report.warnings.contains { caseName($0) == warning }, "warnings: \(report.warnings)")
        } else {
            #expect(report.warnings.isEmpty, "warnings: \(report.warnings)")
        }
        // Every tracked link's URL decodes to its destination, index and tags.
        for link in report.links {
            guard let url = link.trackingURL else { continue }
            guard case .click(let token) = try F.signer.decode(url) else {
                Issue.record("not a click URL: \(url)")
                continue
            }
            #expect(token.destination == link.destination)
            #expect(token.linkIndex == link.linkIndex)
            #expect(token.messageId == F.messageId)
            #expect(token.configurationSet == F.setName)
            #expect(token.messageTags == F.messageTags)
        }
        // Rewriting the output again changes nothing.
        let again = F.rewrite(result.output, context: context)
        if row.idempotent {
            #expect(HTMLBytes(again.output) == HTMLBytes(result.output), "second pass")
            #expect(again.report.trackedLinkCount == 0)
        } else {
            // Only the links that ses:no-track held back get tracked by a second pass.
            #expect(again.report.trackedLinkCount == report.links.filter { $0.untrackedReason == .noTrack }.count)
        }
    }

    @Test("ses:tags values reach the token in written order")
    func linkTagsDecode() throws {
        let input = Array(html: "<body><a href=\"https://example.com/t\" ses:tags=\"b:2;a:1\">t</a></body>")
        let result = F.rewrite(input)
        let url = try #require(result.report.links.first?.trackingURL)
        guard case .click(let token) = try F.signer.decode(url) else { Issue.record("not a click"); return }
        #expect(token.linkTags == [Tag(name: "b", value: "2"), Tag(name: "a", value: "1")])
        #expect(token.destination == "https://example.com/t")
    }

    @Test("the tracking URL limit is 2048 bytes: tracked at 2048, untracked at 2049")
    func lengthBoundary() {
        let base = "https://example.com/"
        let overhead = F.clickURL(base, index: 0, scheme: .https).utf8.count - base.utf8.count
        let fitting = base + String(repeating: "a", count: LinkSigner.maximumURLLength - overhead - base.utf8.count)
        let tooLong = fitting + "a"
        #expect(F.clickURL(fitting, index: 0, scheme: .https).utf8.count == LinkSigner.maximumURLLength)

        let fits = F.rewrite(Array(html: "<a href=\"\(fitting)\">x</a>"))
        #expect(fits.output == F.expand("<a href=\"⟦c 0 \(fitting)⟧\">x</a>⟦p⟧"))
        #expect(fits.report.warnings.isEmpty)

        let input = Array(html: "<a href=\"\(tooLong)\">x</a>")
        let over = F.rewrite(input)
        #expect(over.output == input + F.pixel())
        #expect(over.report.links.first?.untrackedReason == .tooLong(tooLong.utf8.count))
        #expect(over.report.warnings.count == 1)
    }

    @Test("no Gmail warning at or below 102 KB")
    func gmailBoundary() {
        let pixelCount = F.pixel().count
        let fillerCount = HTMLRewriter.gmailClipSize - pixelCount - "<p></p>".utf8.count
        let input = Array(html: "<p>" + String(repeating: "x", count: fillerCount) + "</p>")
        let result = F.rewrite(input)
        #expect(result.output.count == HTMLRewriter.gmailClipSize)
        #expect(result.report.warnings.isEmpty)
        let bigger = F.rewrite(input + [UInt8(ascii: "x")])
        #expect(bigger.report.warnings.count == 1)
    }

    @Test("nothing to track: no redirect domain, or neither opens nor clicks")
    func untouchedConfigurations() {
        let input = Array(html: "<body><a href=\"https://example.com/\">x</a></body>")
        let noDomain = TrackingContext(
            configurationSet: ConfigurationSet(name: "plain", customRedirectDomain: nil), messageId: "m@example.com")
        let a = F.rewrite(input, context: noDomain)
        #expect(a.output == input && a.edits.isEmpty && a.report.untouchedReason != nil)
        let b = F.rewrite(input, context: F.context(opens: false, clicks: false))
        #expect(b.output == input && b.edits.isEmpty && b.report.untouchedReason != nil)
    }

    @Test("the report gives each link's original, destination and offset")
    func reportFields() throws {
        let text = "<body><a href=\" https://example.com/?a=1&amp;b=2 \">x</a><a href=\"mailto:a@b\">m</a></body>"
        let result = F.rewrite(Array(html: text))
        #expect(result.report.links.count == 2)
        let first = try #require(result.report.links.first)
        #expect(first.element == "a")
        #expect(first.original == " https://example.com/?a=1&amp;b=2 ")
        #expect(first.destination == "https://example.com/?a=1&b=2")
        #expect(first.documentOffset == 15)
        #expect(first.inConditionalComment == false)
        #expect(first.trackingURL == F.clickURL("https://example.com/?a=1&b=2", index: 0, scheme: .https))
        #expect(result.report.links[1].untrackedReason == .scheme("mailto"))
        #expect(result.report.trackedLinkCount == 1)
    }
}
