import Testing
import TestSupport
@testable import LinkTrack

/// ``Latin1OffsetMap`` maps every parser offset as a byte-by-byte walk does, whatever the mix of
/// ASCII runs (taken in blocks) and bytes >= 0x80 (two parser bytes each), and whatever the order
/// of the targets after the first.
@Suite struct Latin1OffsetMapTests {
    /// The document offset of parser offset `target`, one byte at a time: the first offset whose
    /// parser offset reaches the target, stepped back when it passes it (inside a two-byte character).
    static func reference(_ bytes: [UInt8], _ target: Int) -> Int {
        var parserOffset = 0
        var documentOffset = 0
        while parserOffset < target, documentOffset < bytes.count {
            parserOffset += bytes[documentOffset] >= 0x80 ? 2 : 1
            documentOffset += 1
        }
        if parserOffset > target { documentOffset -= 1 }
        return documentOffset
    }

    @Test(arguments: 0..<200)
    func mapsAsAWalkByteByByte(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 31_000)
        // Long ASCII runs (the blocks), lone high bytes and runs of them, at every alignment.
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...40, using: &generator) {
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: bytes += [UInt8](repeating: UInt8(ascii: "a"), count: Int.random(in: 0...300, using: &generator))
            case 1: bytes.append(0xE9)
            case 2: bytes += [UInt8](repeating: 0xC3, count: Int.random(in: 1...40, using: &generator))
            default: bytes += Array("<p>x</p>".utf8)
            }
        }
        let parserCount = bytes.reduce(0) { $0 + ($1 >= 0x80 ? 2 : 1) }
        var targets = (0..<Int.random(in: 1...60, using: &generator)).map { _ in Int.random(in: 0...(parserCount + 3), using: &generator) }
        // Increasing, as the scanner asks; then a few steps back, which the map must also answer.
        targets.sort()
        targets += (0..<5).map { _ in Int.random(in: 0...(parserCount + 3), using: &generator) }
        bytes.withUnsafeBufferPointer { buffer in
            var map = Latin1OffsetMap(buffer)
            for target in targets {
                #expect(map.documentOffset(parserOffset: target) == Self.reference(bytes, target),
                        "target \(target) of \(parserCount), seed \(seed)")
            }
        }
    }
}
