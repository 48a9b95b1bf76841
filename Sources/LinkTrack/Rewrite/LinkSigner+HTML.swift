extension LinkSigner {
    /// Verifies and decodes a tracking URL as it stands in HTML source: an `href` or `src` value with
    /// its character references still in it (`&amp;` between the query's fields), as it is copied
    /// from a message's HTML.
    ///
    /// The value is read as a browser reads an attribute value (``CharacterReference``: `&amp;`,
    /// `&#38;`, `&#x26;`, ...; surrounding blanks dropped), then verified by ``decode(_:)``. A URL
    /// without references decodes as by ``decode(_:)``: the percent-encoded URL format never holds a
    /// raw `&` inside a value, so no tracking URL means one thing raw and another unescaped.
    /// - Throws: ``TokenError`` for anything but an unaltered URL signed with one of the keys.
    public func decode(htmlAttributeValue value: String) throws(TokenError) -> TrackingToken {
        try decode(Self.unescapedHTMLAttributeValue(value))
    }

    /// `value` with its character references decoded and surrounding blanks dropped, as a browser
    /// reads an attribute value; `value` itself when it holds neither.
    public static func unescapedHTMLAttributeValue(_ value: String) -> String {
        var bytes = CharacterReference.decodeAttributeValue(Array(value.utf8)[...])
        bytes.trimASCIIWhitespace()
        return String(decoding: bytes, as: UTF8.self)
    }
}
