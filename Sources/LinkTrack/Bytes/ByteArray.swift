extension Array where Element == UInt8 {
    /// Makes the array `count` bytes long, ready to be written over through a pointer: bytes it
    /// already holds are kept as they are (the writer overwrites them), only new ones are zeroed.
    /// A reused buffer is neither reallocated nor cleared, which for a megabyte part is a memset
    /// saved per message.
    mutating func resize(forWriting count: Int) {
        if capacity < count {
            // Too small: new storage (the old bytes need no copying).
            self = [UInt8](repeating: 0, count: count)
        } else if self.count > count {
            removeLast(self.count - count)
        } else if self.count < count {
            append(contentsOf: repeatElement(0, count: count - self.count))
        }
    }
}
