import Foundation
@testable import LinkTrack
import Testing
import TestSupport

@Suite struct SupportTests {
    /// The streaming splice hands out, in order, exactly what `Splicer.apply(_:to:)` returns; long
    /// original runs go out as slices of the original, and no piece is empty.
    @Test(arguments: [1, 7, 64, 4096, 65536])
    func streamingSpliceEqualsTheWholeSplice(bufferSize: Int) {
        var generator = SeededGenerator(seed: UInt64(bufferSize))
        for _ in 0..<40 {
            let original = (0..<Int.random(in: 0...20_000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var edits = EditList()
            var cursor = 0
            while cursor < original.count, Bool.random(using: &generator) || edits.count < 3 {
                let start = min(original.count, cursor + Int.random(in: 0...3000, using: &generator))
                let end = min(original.count, start + Int.random(in: 0...40, using: &generator))
                let replacement = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = edits.add(Edit(range: start..<end, replacement: replacement))
                cursor = end + 1
                if cursor >= original.count { break }
            }
            var streamed: [UInt8] = []
            var pieces = 0
            Splicer.apply(edits, to: original, bufferSize: bufferSize) { (piece: UnsafeBufferPointer<UInt8>) in
                #expect(!piece.isEmpty)
                streamed.append(contentsOf: piece)
                pieces += 1
            }
            #expect(streamed == Splicer.apply(edits, to: original))
            // Nothing is written for an empty document without edits; everything else is.
            #expect((pieces == 0) == streamed.isEmpty)
        }
    }

    /// A write error stops the splice and reaches the caller.
    @Test func streamingSpliceStopsAtTheFirstError() {
        struct Full: Error {}
        let original = [UInt8](repeating: 0x61, count: 200_000)
        var calls = 0
        #expect(throws: Full.self) {
            try Splicer.apply(EditList([Edit(range: 10..<20, replacement: [0x62])]), to: original) { (_: UnsafeBufferPointer<UInt8>) throws(Full) in
                calls += 1
                if calls == 2 { throw Full() }
            }
        }
        #expect(calls == 2)
    }

    /// The read end of a pipe that a thread fills with `bytes`, then closes.
    static func readEndOfPipe(fedWith bytes: [UInt8]) throws -> Int32 {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let writeEnd = fds[1]
        Thread {
            try? FileIO.write(fileDescriptor: writeEnd, bytes)
            close(writeEnd)
        }.start()
        return fds[0]
    }

    /// `readAll` gives the same bytes from a regular file (read whole, by its size), an empty file
    /// and a pipe (read in pieces).
    @Test(arguments: [0, 1, 65535, 65536, 65537, 300_001])
    func readAllReadsFilesAndPipes(size: Int) throws {
        var generator = SeededGenerator(seed: UInt64(size))
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = NSTemporaryDirectory() + "linktrack-readall-\(UUID().uuidString)"
        defer { unlink(path) }
        try FileIO.writeAtomically(path: path, contents: bytes)
        #expect(try FileIO.readAll(path: path) == bytes)

        let readEnd = try Self.readEndOfPipe(fedWith: bytes)
        #expect(try FileIO.readAll(fileDescriptor: readEnd) == bytes)
        close(readEnd)
    }

    /// `withContents` gives the same bytes from a regular file (mapped), an empty file and a pipe
    /// (both read), and hands back what its body returns or throws.
    @Test(arguments: [0, 1, 4095, 4096, 4097, 300_001])
    func withContentsMapsFilesAndReadsPipes(size: Int) throws {
        var generator = SeededGenerator(seed: UInt64(size) &+ 7)
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = NSTemporaryDirectory() + "linktrack-contents-\(UUID().uuidString)"
        defer { unlink(path) }
        try FileIO.writeAtomically(path: path, contents: bytes)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let fromFile = try FileIO.withContents(ofFileDescriptor: fd) { (contents) throws(Never) in Array(contents) }
        #expect(fromFile.get() == bytes)

        let readEnd = try Self.readEndOfPipe(fedWith: bytes)
        struct Stop: Error, Equatable { var count: Int }
        let fromPipe = try FileIO.withContents(ofFileDescriptor: readEnd) { (contents) throws(Stop) -> Int in
            throw Stop(count: contents.count)
        }
        close(readEnd)
        #expect(throws: Stop(count: size)) { try fromPipe.get() }
    }

    /// `resize(forWriting:)` keeps what fits, zeroes only new bytes, and reuses the storage when it
    /// is large enough.
    @Test func resizeForWriting() {
        var buffer: [UInt8] = [1, 2, 3, 4, 5, 6]
        buffer.reserveCapacity(64)
        let storage = buffer.withUnsafeBufferPointer { $0.baseAddress }
        buffer.resize(forWriting: 3)
        #expect(buffer == [1, 2, 3])
        buffer.resize(forWriting: 5)
        #expect(buffer == [1, 2, 3, 0, 0])
        #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == storage, "the storage is reused")
        buffer.resize(forWriting: 100)
        #expect(buffer.count == 100 && buffer.allSatisfy { $0 == 0 })
    }

    /// The byte search that stands in for `String.contains(_:)`.
    @Test func containsBytes() {
        #expect(Array("a://b".utf8).containsBytes("://".utf8))
        #expect(!Array("a:/b:/".utf8).containsBytes("://".utf8))
        #expect(Array("xx".utf8).containsBytes("".utf8))
        #expect(!Array("".utf8).containsBytes("a".utf8))
        #expect(Array("aab".utf8).containsBytes("ab".utf8))
        #expect(!Array("ab".utf8).containsBytes("abc".utf8))
        #expect("content-transfer-encoding: quoted-printable".utf8.containsBytes("quoted-printable".utf8))
    }

    /// The derived message id: its form, the same for the same document, and different when any
    /// byte or the length differs (every single-bit flip of a 300-byte document, every length of a
    /// run of zeros: the cases a weak digest merges first).
    @Test func derivedMessageIds() {
        func id(_ bytes: [UInt8]) -> String { TrackingContext.derivedMessageId(for: bytes) }
        var generator = SeededGenerator(seed: 11)
        let document = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let original = id(document)
        #expect(original == id(document))
        #expect(original.hasPrefix("lt-") && original.hasSuffix("@linktrack.invalid"))
        let digits = original.dropFirst(3).prefix { $0 != "@" }
        #expect(digits.count == 24 && digits.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        var seen: Set<String> = [original]
        for position in document.indices {
            for bit in 0..<8 {
                var flipped = document
                flipped[position] ^= UInt8(1 << bit)
                seen.insert(id(flipped))
            }
        }
        #expect(seen.count == 1 + document.count * 8)
        let zeros = Set((0...200).map { id([UInt8](repeating: 0, count: $0)) })
        #expect(zeros.count == 201)
    }
}
