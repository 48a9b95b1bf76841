import Testing
import TestSupport
@testable import LinkTrack

/// `EditList` keeps its rules (order, first claim wins) whichever way edits arrive, and does work
/// linear in the number of edits when a document mixes `{{ses:openTracker}}` placeholders with
/// links (issue 16, item 15). The work is counted (edits moved to make room), never timed.
@Suite struct EditListTests {
    /// The list as it was built before: a backward scan from the end and an insertion there, one
    /// edit at a time. The reference for the rules.
    struct ReferenceList {
        var edits: [Edit] = []

        mutating func add(_ edit: Edit) -> Bool {
            func precedesOrTies(_ existing: Edit) -> Bool {
                if existing.range.lowerBound != edit.range.lowerBound {
                    return existing.range.lowerBound < edit.range.lowerBound
                }
                return existing.range.isEmpty || !edit.range.isEmpty
            }
            var index = edits.count
            while index > 0, !precedesOrTies(edits[index - 1]) { index -= 1 }
            if index > 0, edits[index - 1].range.upperBound > edit.range.lowerBound { return false }
            if index < edits.count, edit.range.upperBound > edits[index].range.lowerBound { return false }
            edits.insert(edit, at: index)
            return true
        }
    }

    static func randomEdit(_ generator: inout SeededGenerator, size: Int) -> Edit {
        let start = Int.random(in: 0...size, using: &generator)
        let length = Bool.random(using: &generator) ? 0 : Int.random(in: 1...5, using: &generator)
        return Edit(range: start..<min(size + 5, start + length), replacement: [UInt8.random(in: 0...255, using: &generator)])
    }

    @Test(arguments: 0..<200)
    func addingOneByOneFollowsTheRules(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        var list = EditList()
        var reference = ReferenceList()
        for _ in 0..<Int.random(in: 1...40, using: &generator) {
            let edit = Self.randomEdit(&generator, size: 60)
            #expect(list.canAdd(edit) == ReferenceList(edits: reference.edits).addResult(edit))
            #expect(list.add(edit) == reference.add(edit))
        }
        #expect(list.edits == reference.edits)
    }

    /// A batch, sorted and disjoint or not, ends as the same edits added one by one.
    @Test(arguments: 0..<200)
    func addingABatchEqualsAddingOneByOne(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        var list = EditList()
        var reference = ReferenceList()
        for _ in 0..<Int.random(in: 0...30, using: &generator) {
            let edit = Self.randomEdit(&generator, size: 200)
            list.add(edit)
            _ = reference.add(edit)
        }
        var batch: [Edit] = []
        if seed % 2 == 0 {
            // Sorted and disjoint, as the rewriter's placeholder removals are.
            var offset = Int.random(in: 0...10, using: &generator)
            while offset < 200 {
                let length = Int.random(in: 0...4, using: &generator)
                batch.append(Edit(range: offset..<(offset + length), replacement: []))
                offset += length + Int.random(in: 0...12, using: &generator)
            }
        } else {
            for _ in 0..<Int.random(in: 0...30, using: &generator) { batch.append(Self.randomEdit(&generator, size: 200)) }
        }
        let added = list.add(contentsOf: batch)
        var referenceAdded = 0
        for edit in batch where reference.add(edit) { referenceAdded += 1 }
        #expect(added == referenceAdded)
        #expect(list.edits == reference.edits)
    }

    /// The case of issue 16, item 15: placeholders between links. Adding the placeholder removals
    /// one at a time moved about n²/2 edits (8½ minutes for 880,000 pairs); now only the pixel goes
    /// in the middle, once.
    @Test func placeholdersBetweenLinksMoveEachEditOnce() {
        let pairs = 20_000
        var html = "<html><body>"
        for k in 0..<pairs { html += "{{ses:openTracker}}<a href=\"https://example.com/\(k)\">\(k)</a>" }
        html += "</body></html>"
        var rewriter = HTMLRewriterFixture.rewriter
        rewriter.limits.maximumLinksPerHTMLPart = 2 * pairs
        let result = rewriter.rewrite(Array(html.utf8), charset: "utf-8", context: HTMLRewriterFixture.context())
        #expect(result.report.untouchedReason == nil)
        #expect(result.report.trackedLinkCount == pairs)
        // One pixel (at the first placeholder) and pairs - 1 removed placeholders, besides the links.
        #expect(result.edits.count == 2 * pairs)
        // The pixel replaces the first placeholder, ahead of every link edit: those move once. The
        // other placeholders are merged in, moving nothing.
        #expect(result.edits.movedEdits == pairs)
    }

    /// The pixel before `</body>` goes in the middle once: the edits after it move, once.
    @Test func thePixelBeforeTheBodyEndMovesOnlyTheEditsAfterIt() {
        var html = "<html><body>"
        for k in 0..<1_000 { html += "<a href=\"https://example.com/\(k)\">\(k)</a>" }
        html += "</body>"
        for k in 0..<10 { html += "{{ses:openTracker}}<a href=\"https://example.com/after/\(k)\">\(k)</a>" }
        html += "</html>"
        let result = HTMLRewriterFixture.rewrite(Array(html.utf8))
        #expect(result.report.trackedLinkCount == 1_010)
        #expect(result.edits.movedEdits == 10)
    }
}

extension EditListTests.ReferenceList {
    /// Whether `add` would take `edit`, without adding it.
    func addResult(_ edit: Edit) -> Bool {
        var copy = self
        return copy.add(edit)
    }
}
