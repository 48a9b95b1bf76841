import Foundation
@testable import LinkTrackServerCore
import Testing

struct EventIDTests {
    static let shape = try! NSRegularExpression(pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

    static func matchesShape(_ id: String) -> Bool {
        shape.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)) != nil
    }

    @Test func idsAreVersion7UUIDsCarryingTheirMillisecond() throws {
        // Later than any id the other tests (running in parallel) make: no sequence carry.
        let ms: Int64 = 4_000_000_000_123
        let id = EventID.next(milliseconds: ms)
        #expect(Self.matchesShape(id), "\(id)")
        #expect(UUID(uuidString: id) != nil)
        let hex = id.replacingOccurrences(of: "-", with: "")
        #expect(UInt64(hex.prefix(12), radix: 16) == UInt64(ms))
    }

    @Test func manyIdsInOneMillisecondAreDistinctAndInOrder() {
        // Far more than the 12-bit sequence holds: the sequence carries into the next millisecond
        // rather than repeating.
        let ms: Int64 = 1_900_000_000_000
        let ids = (0..<20_000).map { _ in EventID.next(milliseconds: ms) }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted(), "ids in the order made are in sorted order")
        #expect(ids.allSatisfy(Self.matchesShape))
    }

    @Test func aClockThatGoesBackDoesNotRepeatIds() {
        let late = EventID.next(milliseconds: 1_950_000_000_000)
        let early = EventID.next(milliseconds: 1_000)
        #expect(early > late)
        #expect(early != late)
    }

    @Test func idsFromConcurrentTasksAreDistinct() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<5_000).map { _ in EventID.next(milliseconds: 5) } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(Set(ids).count == 40_000)
    }

    @Test func eventsGetIdsFromTheirOwnTimestamp() {
        let a = TrackingEvent(kind: .open, timestampMilliseconds: 2_000_000_000_000, configurationSet: "s", messageId: "m",
                              messageTags: [], ipAddress: "", userAgent: nil)
        #expect(Self.matchesShape(a.eventId))
        #expect(TrackingEvent(eventId: "given", kind: .open, timestampMilliseconds: 0, configurationSet: "s", messageId: "m",
                              messageTags: [], ipAddress: "", userAgent: nil).eventId == "given")
    }
}
