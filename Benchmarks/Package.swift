// swift-tools-version:6.1
// LinkTrack's benchmarks: a package of their own, so users of the library never build them.
// Run everything with `bash Benchmarks/run.sh` from the repository root (see README.md).
// Linux only, as the root package it measures: it declares no Apple platform.
import PackageDescription

let package = Package(
    name: "LinkTrackBenchmarks",
    dependencies: [
        .package(name: "LinkTrack", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Loads the generated inputs (Benchmarks/Inputs, written by generate.py) and the configuration.
        .target(
            name: "BenchInputs",
            dependencies: [.product(name: "LinkTrack", package: "LinkTrack")],
            path: "Sources/BenchInputs"
        ),
        // The ordo-one Benchmark suite: rewriter, MIME filter, signing, and the libxml2 baseline.
        .executableTarget(
            name: "LinkTrackBenchmarks",
            dependencies: [
                "BenchInputs",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "LinkTrackTooling", package: "LinkTrack"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LinkTrackBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Interleaved ContinuousClock medians: ratio to the baseline, and two callers vs one.
        .executableTarget(
            name: "linktrack-ratio",
            dependencies: [
                "BenchInputs",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "LinkTrackTooling", package: "LinkTrack"),
            ],
            path: "Sources/linktrack-ratio"
        ),
        // One rewrite of one input, for valgrind --tool=callgrind.
        .executableTarget(
            name: "linktrack-profile",
            dependencies: [
                "BenchInputs",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "LinkTrackTooling", package: "LinkTrack"),
            ],
            path: "Sources/linktrack-profile"
        ),
    ],
    swiftLanguageModes: [.v6]
)
