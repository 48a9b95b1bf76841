/// Where the root package lies: the folder of `Package.swift`, `Corpus/`, `Fuzz/`.
public enum PackageRoot {
    /// The root package's folder, found from this file's own path (`Tests/TestSupport/`).
    public static let path: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// `Corpus/` under the root.
    public static var corpus: String { path + "/Corpus" }
}
