// swift-tools-version:6.2
// linktrack-server: the redirect domain (clicks, the open pixel, events) and the SES v2 control API.
//
// A package of its own beside the root one, as Benchmarks/ and Fuzz/ are: the root package, whose
// `LinkTrack` library and `linktrack` filter senders and MTAs depend on, never resolves, builds or
// links Hummingbird, NIO or Foundation. Build and test from the repository root with
// `swift build --package-path Server` and `swift test --package-path Server` (see README.md).
// Linux only, as the root package it depends on: it declares no Apple platform.
import PackageDescription

let package = Package(
    name: "LinkTrackServer",
    products: [
        .executable(name: "linktrack-server", targets: ["linktrack-server"]),
    ],
    dependencies: [
        .package(name: "LinkTrack", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Pure logic, no NIO: server configuration, host routing, SES event JSON, machine-flag rules,
        // SigV4 verification, the control API's operations and errors. Plain unit tests.
        .target(
            name: "LinkTrackServerCore",
            dependencies: [
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The HTTP side: request contexts, routers, the event writer and its sinks, services.
        .target(
            name: "LinkTrackServer",
            dependencies: [
                "LinkTrackServerCore",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // @main: flags, logging and metrics bootstrap, ServiceGroup.run().
        .executableTarget(
            name: "linktrack-server",
            dependencies: [
                "LinkTrackServer", "LinkTrackServerCore",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The benchmarks' baseline: a fixed 302 from a minimal Hummingbird server (Benchmarks/server).
        .executableTarget(
            name: "linktrack-bench-baseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
        .testTarget(
            name: "LinkTrackServerCoreTests",
            dependencies: ["LinkTrackServerCore", .product(name: "LinkTrack", package: "LinkTrack")]
        ),
        .testTarget(
            name: "LinkTrackServerTests",
            dependencies: [
                "LinkTrackServer", "LinkTrackServerCore",
                .product(name: "LinkTrack", package: "LinkTrack"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
