import LinkTrack

extension InvariantChecker {
    /// Aligns a decoded `text/plain` part before and after tracking (issue 21, item 4): the output
    /// may differ from the input only where a URL became a click-tracking URL on the set's redirect
    /// domain that verifies, decodes to exactly that URL (its bytes in the input, or, for a URL
    /// wrapped over lines, its bytes with the soft line breaks, blanks and quote marks between them),
    /// has the scheme the HttpsPolicy asks for, ends in a letter, digit or percent-escape and holds
    /// no raw bracket, quote or angle bracket.
    ///
    /// Read without the rewriter's URL finder: each tracking URL is found in the output by its
    /// prefix and the signature.
    public func checkText(input: [UInt8], output: [UInt8], set: ConfigurationSet) -> [String] {
        var nextLinkIndex = 0
        return checkText(input: input, output: output, set: set, nextLinkIndex: &nextLinkIndex)
    }

    /// ``checkText(input:output:set:)`` of a part whose first tracked link has index `nextLinkIndex`,
    /// which is moved past the part's tracked links.
    /// No tracked URL may lead to one of `unsubscribe`'s URLs (the message's `List-Unsubscribe`, when
    /// the set leaves them untracked) or to an excluded domain.
    func checkText(input: [UInt8], output: [UInt8], set: ConfigurationSet, unsubscribe: ListUnsubscribe? = nil,
                   nextLinkIndex: inout Int) -> [String] {
        guard let domain = set.customRedirectDomain else { return input == output ? [] : ["changed without a redirect domain"] }
        let prefixes = ["https://\(domain)/c/", "http://\(domain)/c/"].map { Array($0.utf8) }
        func endsURL(_ b: UInt8) -> Bool {
            b <= 0x20 || b == 0x7F || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == UInt8(ascii: "\"")
        }
        func isAlphanumeric(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
        }
        var i = 0
        var j = 0
        while j < output.count {
            if prefixes.contains(where: { output[j...].starts(with: $0) }) {
                var runEnd = j
                while runEnd < output.count, !endsURL(output[runEnd]) { runEnd += 1 }
                // An untracked link that was already on the redirect domain stays as it was.
                if input[min(i, input.count)...].starts(with: output[j..<runEnd]) {
                    i += runEnd - j
                    j = runEnd
                    continue
                }
                var matched = false
                for end in stride(from: runEnd, to: j, by: -1) where isAlphanumeric(output[end - 1]) {
                    guard case .click(let token)? = try? signer.decode(String(decoding: output[j..<end], as: UTF8.self)),
                          token.configurationSet == set.name else { continue }
                    let url = output[j..<end]
                    let destination = Array(token.destination.utf8)
                    let original: HttpsPolicy.Scheme = destination.prefix(5).map { $0 | 0x20 } == Array("https".utf8) ? .https : .http
                    if !url.starts(with: Array("\(set.httpsPolicy.clickScheme(original: original).rawValue)://".utf8)) {
                        return ["the tracking URL at decoded offset \(j) has the wrong scheme for HttpsPolicy"]
                    }
                    if url.contains(where: { "()[]{}<>\"'`".utf8.contains($0) }) {
                        return ["the tracking URL at decoded offset \(j) holds a raw bracket or quote"]
                    }
                    if unsubscribe?.matches(destination: destination) == true {
                        return ["the tracking URL at decoded offset \(j) leads to a List-Unsubscribe URL"]
                    }
                    if set.linkTrackOptions.excludedDomains.matches(destination: destination) {
                        return ["the tracking URL at decoded offset \(j) leads to an excluded domain"]
                    }
                    if token.linkIndex != nextLinkIndex {
                        return ["the tracking URL at decoded offset \(j) has index \(token.linkIndex), expected \(nextLinkIndex)"]
                    }
                    nextLinkIndex += 1
                    guard let after = Self.matchWrapped(destination, in: input, from: i) else {
                        return ["the tracking URL at decoded offset \(j) decodes to \(token.destination), which is not the text it replaced"]
                    }
                    i = after
                    j = end
                    matched = true
                    break
                }
                if matched { continue }
            }
            guard i < input.count, input[i] == output[j] else {
                return ["the text differs at decoded offset \(j) outside a tracking URL"]
            }
            i += 1
            j += 1
        }
        return i == input.count ? [] : ["the output text ends before the input text"]
    }

    /// The offset after `url` in `input` from `start`: its bytes in order, with only line breaks,
    /// blanks and `>` quote marks between them (a wrapped URL); nil when they are not there.
    static func matchWrapped(_ url: [UInt8], in input: [UInt8], from start: Int) -> Int? {
        var k = start
        for (n, b) in url.enumerated() {
            while k < input.count, input[k] != b, n > 0,
                  input[k] == 0x0D || input[k] == 0x0A || input[k] == 0x20 || input[k] == 0x09 || input[k] == UInt8(ascii: ">") {
                k += 1
            }
            guard k < input.count, input[k] == b else { return nil }
            k += 1
        }
        return k
    }
}
