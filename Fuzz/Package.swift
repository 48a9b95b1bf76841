// swift-tools-version:6.0
// libFuzzer targets for LinkTrack. Build and run them with `Fuzz/run.sh` (see Fuzz/README.md);
// a plain `swift build` here links no fuzzer runtime and fails for want of `main`.
import PackageDescription

let package = Package(
    name: "LinkTrackFuzz",
    dependencies: [
        .package(name: "LinkTrack", path: ".."),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver (see Sources/CLibFuzzer/shim.h).
        .systemLibrary(name: "CLibFuzzer"),
        // The configuration and the failure report both targets share.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "LinkTrack", package: "LinkTrack")]
        ),
        // Each target is one file defining LLVMFuzzerTestOneInput, built with -parse-as-library so
        // Swift emits no main. SwiftPM links executables with `--defsym main=<Module>_main`, so each
        // file also defines `<Module>_main`, which hands over to libFuzzer's LLVMFuzzerRunDriver.
        .executableTarget(
            name: "FuzzMessageFilter",
            dependencies: [
                "FuzzSupport", "CLibFuzzer",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "LinkTrackTooling", package: "LinkTrack"),
            ]
        ),
        .executableTarget(
            name: "FuzzHTMLRewriter",
            dependencies: [
                "FuzzSupport", "CLibFuzzer",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "LinkTrackTooling", package: "LinkTrack"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
