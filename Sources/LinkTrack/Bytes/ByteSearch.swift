extension Collection<UInt8> {
    /// Whether `needle` occurs in these bytes (an empty needle always does).
    ///
    /// The standard library's `String.contains(_:)` for a string argument lives in
    /// `_StringProcessing`, and calling it links that module and the regex parser into every binary
    /// built on LinkTrack; this plain search keeps them out of `linktrack`'s start-up.
    package func containsBytes(_ needle: some Collection<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        var start = startIndex
        while let i = self[start...].firstIndex(of: first) {
            if self[i...].starts(with: needle) { return true }
            start = index(after: i)
        }
        return false
    }
}
