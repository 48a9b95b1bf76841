#if canImport(Glibc)
import Glibc
#endif

/// Finds, in one pass and before libxml2 sees a document, whether some start tag could hold more
/// attributes than a limit.
///
/// libxml2 2.9.14 checks each attribute of a start tag against every earlier one of the same tag
/// (`htmlParseStartTag`: "Attribute %s redefined"), so a tag of k attributes costs it k²/2 string
/// comparisons: 80,000 attributes took 21 s, 300,000 five minutes (issue 16, item 15). The
/// rewriter's own re-scan of a tag does the same. Above ``Limits/maximumAttributesPerTag`` the part
/// passes through untouched instead.
///
/// Which `<` starts a tag depends on where the parser stands (text, a comment, a script, a quoted
/// value), which only the parse itself knows; and a quoted value may hold `<` and `>`, so a tag
/// cannot be cut out by looking for them. So the pass reads a tag from *every* `<` followed by a
/// name-start byte, with libxml2's start-tag rules (those of ``TagRescanner``:
/// `htmlParseStartTag`, `htmlParseAttribute`, `htmlParseAttValue`, `htmlParseHTMLName`, names cut
/// at 100 characters), all of these readings side by side. Two readings in the same state at the
/// same byte go on alike, so they are merged, keeping the larger count: at most nine readings are
/// alive at once, whatever the document, and the pass is linear. The count it finds for a tag is
/// never below libxml2's (which starts its tags at some of these `<`), so no tag over the limit
/// reaches libxml2; it may be above (a `<a ...` inside a comment or a value is read as a tag too),
/// which only makes the check stricter.
///
/// Almost always one reading at most is alive (a second starts only at a `<` inside a tag), and
/// it stays in one state for runs of bytes (a name, a quoted value, blanks): those runs are
/// skipped in tight loops, and quoted values and the text between tags with `memchr`.
///
/// Safe: the document is read through its base pointer (in the tight loops, without the checks of
/// a buffer's subscript in debug builds) only at indices checked first against `end`, its count.
enum StartTagAttributeBound {
    /// Where a reading of a start tag stands.
    enum State: UInt8 {
        /// In the element's name.
        case elementName = 0
        /// Between attributes (after a name, a value or a bogus attribute).
        case betweenAttributes
        /// In an attribute's name.
        case attributeName
        /// After an attribute's name, in the blanks before a possible `=`.
        case afterAttributeName
        /// After `=`, in the blanks before the value.
        case beforeValue
        case doubleQuotedValue
        case singleQuotedValue
        case unquotedValue
        /// In a bogus attribute, which libxml2 drops up to the next blank or the end of the tag.
        case bogus
    }

    static let stateCount = 9

    /// libxml2 cuts a name at 100 characters (`HTML_PARSER_BUFFER_SIZE`); the rest begins another.
    static let nameCut = 100

    /// The reading's next state after `byte` (nil: its tag ended), and whether an attribute starts.
    /// - Parameters:
    ///   - closesTag: `byte` is `>`, or `/` before `>`.
    ///   - cut: `byte` is a name byte at which a name reaches 100 characters.
    @inline(__always)
    static func next(_ state: State, _ byte: UInt8, closesTag: Bool, cut: Bool) -> (State?, Bool) {
        /// The loop of `htmlParseStartTag` at this byte: the end of the tag, blanks, or the start
        /// of an attribute or of a bogus one.
        @inline(__always) func betweenAttributes() -> (State?, Bool) {
            if closesTag { return (nil, false) }
            if TagRescanner.isBlank(byte) { return (.betweenAttributes, false) }
            if TagRescanner.isNameStart(byte) { return (.attributeName, true) }
            return (.bogus, false)
        }
        switch state {
        case .elementName, .attributeName:
            if TagRescanner.isNameCharacter(byte) {
                guard cut else { return (state, false) }
                return TagRescanner.isNameStart(byte) ? (.attributeName, true) : (.bogus, false)
            }
            if state == .attributeName {
                if TagRescanner.isBlank(byte) { return (.afterAttributeName, false) }
                if byte == UInt8(ascii: "=") { return (.beforeValue, false) }
            }
            return betweenAttributes()
        case .betweenAttributes:
            return betweenAttributes()
        case .afterAttributeName:
            if TagRescanner.isBlank(byte) { return (.afterAttributeName, false) }
            if byte == UInt8(ascii: "=") { return (.beforeValue, false) }
            return betweenAttributes()
        case .beforeValue:
            if TagRescanner.isBlank(byte) { return (.beforeValue, false) }
            if byte == UInt8(ascii: "\"") { return (.doubleQuotedValue, false) }
            if byte == UInt8(ascii: "'") { return (.singleQuotedValue, false) }
            if byte == UInt8(ascii: ">") { return (nil, false) }
            return (.unquotedValue, false)
        case .doubleQuotedValue:
            return (byte == UInt8(ascii: "\"") ? .betweenAttributes : .doubleQuotedValue, false)
        case .singleQuotedValue:
            return (byte == UInt8(ascii: "'") ? .betweenAttributes : .singleQuotedValue, false)
        case .unquotedValue:
            if TagRescanner.isBlank(byte) { return (.betweenAttributes, false) }
            return (byte == UInt8(ascii: ">") ? nil : .unquotedValue, false)
        case .bogus:
            if TagRescanner.isBlank(byte) { return (.betweenAttributes, false) }
            return (closesTag ? nil : .bogus, false)
        }
    }

    /// The offset of the first byte at which a start tag, as libxml2 may read it, reaches more than
    /// `limit` attributes; nil when no tag does.
    static func firstOffsetOverLimit(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> Int? {
        guard let base = bytes.baseAddress, bytes.count > 1 else { return nil }
        let end = bytes.count
        let lessThan = UInt8(ascii: "<")
        // One reading (the usual case): its state and count; nil when none is alive.
        var single: State?
        var count = 0
        // Several readings: the largest count in each state, -1 where none is, at `counts` in
        // `table` (and at `nextCounts` for the next byte's). One table for both, allocated once per
        // document, whose halves swap roles. Read through a pointer: an array's subscript checks
        // its bounds on every access in this per-byte loop.
        // Safe: `counts` and `nextCounts` are 0 and `stateCount`, swapped, and every index below
        // adds `k < stateCount` or a state's raw value (below `stateCount`) to one of them: within
        // the table's `2 * stateCount` entries, all initialized here; `Int` needs no deinitializing.
        let table = UnsafeMutablePointer<Int>.allocate(capacity: 2 * stateCount)
        table.initialize(repeating: -1, count: 2 * stateCount)
        defer { table.deallocate() }
        var counts = 0
        var nextCounts = stateCount
        var several = false
        // The length of the run of name bytes before the current byte (for the 100-character cut).
        var run = 0
        // The index of the first `<` at or after some earlier index (or `end`), when a quoted value
        // looked for it; -1 before. Valid at `i` while `i <= nextLessThan`.
        var nextLessThan = -1
        var i = 0
        nextByte: while i < end {
            if !several {
                if let start = single {
                    // One reading: its bytes are read here, in tight loops, up to a `<` (where
                    // another reading may start), a cut name or the end of the tag; those go to
                    // the general step below. The same transitions as ``next(_:_:closesTag:cut:)``.
                    var state = start
                    lexer: while true {
                        switch state {
                        case .elementName, .attributeName:
                            // Up to the next cut: a multiple of 100 name bytes into the run. One bound
                            // for the loop: the cut or the end, whichever is first. A fresh name (the
                            // usual case: `run` is 0 after a `<` and at an attribute's first byte) is
                            // cut at 100, with no division.
                            let runStart = i
                            let stop: Int
                            if run == 0 {
                                stop = min(end, i &+ nameCut)
                            } else {
                                let cutAt = run < nameCut ? nameCut : run % nameCut == 0 ? run : (run / nameCut + 1) * nameCut
                                stop = min(end, i + (cutAt - run))
                            }
                            while i < stop, TagRescanner.isNameCharacter(base[i]) { i &+= 1 }
                            run &+= i &- runStart
                            guard i < end else { return nil }
                            let byte = base[i]
                            if TagRescanner.isNameCharacter(byte) { break lexer }  // a cut
                            run = 0
                            if state == .attributeName {
                                if TagRescanner.isBlank(byte) { state = .afterAttributeName; i += 1; continue lexer }
                                if byte == UInt8(ascii: "=") { state = .beforeValue; i += 1; continue lexer }
                            }
                            // Read as between attributes (it is no blank, so no byte is skipped).
                            state = .betweenAttributes
                        case .betweenAttributes, .afterAttributeName:
                            while i < end, TagRescanner.isBlank(base[i]) { i += 1 }
                            guard i < end else { return nil }
                            let byte = base[i]
                            if state == .afterAttributeName, byte == UInt8(ascii: "=") { state = .beforeValue; i += 1; continue lexer }
                            if byte == lessThan { state = .betweenAttributes; break lexer }
                            if byte == UInt8(ascii: ">") || (byte == UInt8(ascii: "/") && i + 1 < end && base[i + 1] == UInt8(ascii: ">")) {
                                // The tag ends: no reading is left.
                                single = nil
                                i += 1
                                continue nextByte
                            }
                            if TagRescanner.isNameStart(byte) {
                                count += 1
                                if count > limit { return i }
                                // The name's loop above reads this first byte too (a name-start byte
                                // is a name byte), from a run of 0: the same cut as counting it here.
                                state = .attributeName
                                run = 0
                                continue lexer
                            }
                            state = .bogus
                            i += 1
                        case .beforeValue:
                            while i < end, TagRescanner.isBlank(base[i]) { i += 1 }
                            guard i < end else { return nil }
                            let byte = base[i]
                            if byte == lessThan { break lexer }
                            if byte == UInt8(ascii: ">") { single = nil; i += 1; continue nextByte }
                            state = byte == UInt8(ascii: "\"") ? .doubleQuotedValue : byte == UInt8(ascii: "'") ? .singleQuotedValue : .unquotedValue
                            i += 1
                        case .doubleQuotedValue, .singleQuotedValue:
                            let quote = state == .doubleQuotedValue ? UInt8(ascii: "\"") : UInt8(ascii: "'")
                            // The value ends at its quote, or the reading stops at the next `<`: the
                            // quote is looked for only before that `<`, found once per tag (and kept
                            // for the text after the tag).
                            if nextLessThan < i {
                                // Safe: memchr reads i..<end, within the document.
                                let hit = memchr(base + i, Int32(lessThan), end - i)
                                nextLessThan = hit.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? end
                            }
                            // Safe: memchr reads i..<nextLessThan, within the document.
                            if let hit = memchr(base + i, Int32(quote), nextLessThan - i) {
                                i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                            } else {
                                i = nextLessThan
                                guard i < end else { return nil }
                                break lexer
                            }
                            state = .betweenAttributes
                            i += 1
                        case .unquotedValue:
                            while i < end, !TagRescanner.isBlank(base[i]), base[i] != UInt8(ascii: ">"), base[i] != lessThan { i += 1 }
                            guard i < end else { return nil }
                            let byte = base[i]
                            if byte == lessThan { break lexer }
                            i += 1
                            if byte == UInt8(ascii: ">") { single = nil; continue nextByte }
                            state = .betweenAttributes
                        case .bogus:
                            while i < end, !TagRescanner.isBlank(base[i]), base[i] != UInt8(ascii: ">"), base[i] != UInt8(ascii: "/"),
                                  base[i] != lessThan { i += 1 }
                            guard i < end else { return nil }
                            let byte = base[i]
                            if byte == lessThan || byte == UInt8(ascii: "/") { break lexer }
                            i += 1
                            if byte == UInt8(ascii: ">") { single = nil; continue nextByte }
                            state = .betweenAttributes
                        }
                    }
                    single = state
                    // The byte at `i` is a `<`, a `/` or a name byte at a cut: the step below reads it.
                    if !(state == .elementName || state == .attributeName) { run = 0 }
                } else {
                    // No reading: on to the next `<` at memory speed (already found when a quoted
                    // value of the last tag looked for it).
                    if nextLessThan < i {
                        // Safe: memchr reads i..<end, within the document.
                        guard let hit = memchr(base + i, Int32(lessThan), end - i) else { return nil }
                        i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    } else {
                        guard nextLessThan < end else { return nil }
                        i = nextLessThan
                    }
                    // The general step below, for a `<` with no reading alive: a reading starts when a
                    // name-start byte follows.
                    if i + 1 < end, TagRescanner.isNameStart(base[i + 1]) {
                        single = .elementName
                        count = 0
                    }
                    run = 0
                    i += 1
                    continue nextByte
                }
            }
            let byte = base[i]
            let isNameByte = TagRescanner.isNameCharacter(byte)
            let cut = isNameByte && run > 0 && run % nameCut == 0
            let closesTag = byte == UInt8(ascii: ">") || (byte == UInt8(ascii: "/") && i + 1 < end && base[i + 1] == UInt8(ascii: ">"))
            let startsReading = byte == lessThan && i + 1 < end && TagRescanner.isNameStart(base[i + 1])
            if !several {
                if let state = single {
                    let (next, starts) = next(state, byte, closesTag: closesTag, cut: cut)
                    if starts {
                        count += 1
                        if count > limit { return i }
                    }
                    single = next
                }
                if startsReading {
                    if let state = single {
                        // A second reading: from here on, side by side.
                        several = true
                        for k in 0..<stateCount { table[counts + k] = -1 }
                        table[counts + Int(state.rawValue)] = count
                        table[counts + Int(State.elementName.rawValue)] = max(table[counts + Int(State.elementName.rawValue)], 0)
                    } else {
                        single = .elementName
                        count = 0
                    }
                }
            } else {
                for k in 0..<stateCount { table[nextCounts + k] = -1 }
                for k in 0..<stateCount where table[counts + k] >= 0 {
                    let (next, starts) = next(State(rawValue: UInt8(k))!, byte, closesTag: closesTag, cut: cut)
                    guard let next else { continue }
                    let total = table[counts + k] + (starts ? 1 : 0)
                    if total > limit { return i }
                    table[nextCounts + Int(next.rawValue)] = max(table[nextCounts + Int(next.rawValue)], total)
                }
                if startsReading {
                    table[nextCounts + Int(State.elementName.rawValue)] = max(table[nextCounts + Int(State.elementName.rawValue)], 0)
                }
                swap(&counts, &nextCounts)
                // Back to one reading (or none) when the others have ended or merged.
                var alive = 0
                var last = 0
                for k in 0..<stateCount where table[counts + k] >= 0 {
                    alive += 1
                    last = k
                }
                if alive <= 1 {
                    several = false
                    single = alive == 1 ? State(rawValue: UInt8(last))! : nil
                    count = alive == 1 ? table[counts + last] : 0
                }
            }
            run = isNameByte ? run + 1 : 0
            i += 1
        }
        return nil
    }
}
