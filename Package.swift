// swift-tools-version:6.0
import PackageDescription

// Linux only: the library calls Glibc directly (memchr, pthread, mmap) and is built and
// tested on Linux alone, so the package declares no Apple platform (see README.md, Quick start).
let package = Package(
    name: "LinkTrack",
    products: [
        .library(name: "LinkTrack", targets: ["LinkTrack"]),
        // The invariant checker, the corpus runner and the libxml2 baseline: for the CLI's `check`
        // and `corpus`, the tests, the fuzzers and the benchmarks; a sender needs none of it.
        .library(name: "LinkTrackTooling", targets: ["LinkTrackTooling"]),
        .executable(name: "linktrack", targets: ["linktrack"]),
    ],
    // No dependencies: CSHA256 is checked against FIPS 180-2 examples and known answers computed
    // once with OpenSSL (Tests/LinkTrackTests/Tracking/KnownAnswers.swift), so `swift test` builds
    // no crypto package.
    targets: [
        // libxml2's HTML parser, through a small shim. In LinkTrack only the adapter imports it
        // (HTML/HTMLScanner, and HTML/LibXML2Parsing, its parser set-up); beyond it, only
        // LinkTrackTooling's LibXML2Baseline, the benchmarks' floor.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        // syslog(3) and stderr, which Swift 6 cannot call or name directly.
        .systemLibrary(name: "CSupport"),
        // SHA-256 for the link MACs, with the x86 SHA extensions where the CPU has them.
        .target(name: "CSHA256"),
        .target(
            name: "LinkTrack",
            dependencies: ["CLibXML2", "CSHA256"]
        ),
        // Reaches what it needs of LinkTrack through `package` declarations.
        .target(
            name: "LinkTrackTooling",
            dependencies: ["LinkTrack", "CLibXML2"]
        ),
        .executableTarget(
            name: "linktrack",
            dependencies: [
                "LinkTrack",
                "LinkTrackTooling",
                "CSupport",
            ]
        ),
        // What the test targets share: the package root, the built binary and a runner for it.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "LinkTrackTests",
            dependencies: ["LinkTrack", "LinkTrackTooling", "TestSupport"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["LinkTrack", "LinkTrackTooling", "TestSupport", "linktrack"]
        ),
        .testTarget(
            name: "CorpusTests",
            dependencies: ["LinkTrack", "LinkTrackTooling", "TestSupport", "linktrack"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
