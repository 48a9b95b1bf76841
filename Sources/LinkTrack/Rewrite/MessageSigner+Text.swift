extension MessageSigner {
    /// The click URL for a link in a `text/plain` part, written at the start of `buffer`; returns its
    /// length, or nil when there is no URL (see ``writeClickURLLayout(destination:linkIndex:linkTags:scheme:into:)``).
    ///
    /// The URL is the one an HTML link to `destination` gets, but for its last byte: when the
    /// destination ends in a byte the percent-encoding keeps literal but a linkifier may drop
    /// (`/`, `.`, `-`, `_`, `~`, `!`, `$`, `*`, `,`, `:`, `;`, `=`, `?`, `@`), that byte is written
    /// `%XX` and the MAC computed again over the query as written. The destination field decodes to
    /// the same bytes, so the token is the same; the URL now ends in a percent-escape, which no
    /// linkifier cuts off (issue 21, item 4).
    func writeTextClickURL(destination: UnsafeBufferPointer<UInt8>, linkIndex: Int, scheme: HttpsPolicy.Scheme,
                           into buffer: inout [UInt8]) -> Int? {
        guard let layout = writeClickURLLayout(destination: destination, linkIndex: linkIndex, linkTags: [], scheme: scheme,
                                               into: &buffer) else { return nil }
        var count = layout.count
        let last = buffer[count - 1]
        guard !last.isASCIIAlphanumeric, PercentEncoding.isLiteral(last), count > layout.destinationStart else { return count }
        guard count + 2 <= LinkSigner.maximumURLLength else { return nil }
        Self.grow(&buffer, to: count + 2)
        let digits = PercentEncoding.hex.utf8Start
        buffer[count - 1] = UInt8(ascii: "%")
        buffer[count] = digits[Int(last >> 4)]
        buffer[count + 1] = digits[Int(last & 0x0F)]
        count += 2
        // The MAC covers the query from the link index on (after the fixed start that `inner`
        // already holds), exactly as written.
        var state = inner
        // Safe: the bytes are hashed during the call and not kept.
        buffer.withUnsafeBytes { state.update(UnsafeRawBufferPointer(rebasing: $0[layout.indexStart..<count])) }
        key.writeMAC(finishing: state, into: &buffer, at: layout.macStart)
        return count
    }
}
