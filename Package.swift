// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "moby",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moby-server", targets: ["moby-server"]),
        .executable(name: "moby-sensor", targets: ["moby-sensor"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "MQTTCodec", targets: ["MQTTCodec"]),
        .library(name: "Influx", targets: ["Influx"]),
        .library(name: "Spool", targets: ["Spool"]),
        .library(name: "Backoff", targets: ["Backoff"]),
        .library(name: "MobyCore", targets: ["MobyCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(
            url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .target(name: "Backoff", swiftSettings: strict),
        .target(
            name: "MQTTCodec",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "MQTT",
            dependencies: [
                "Backoff", "MQTTCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Spool",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Influx",
            dependencies: [
                "Backoff", "Spool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MobyCore",
            dependencies: [],
            swiftSettings: strict
        ),
        .target(
            name: "MobyServer",
            dependencies: [
                "Backoff", "MQTT", "Influx", "MobyCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "moby-server",
            dependencies: [
                "MobyServer", "MobyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Simulation",
            dependencies: ["MobyCore"],
            swiftSettings: strict
        ),
        .target(
            name: "Edge",
            dependencies: [
                "MQTT", "MobyCore", "Spool", "Simulation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "moby-sensor",
            dependencies: [
                "MQTT", "MobyCore", "Spool", "Simulation", "Edge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MobyTestSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/MobyTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "MQTTTests",
            dependencies: [
                "Backoff", "MQTT", "MobyCore", "MobyTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BackoffTests",
            dependencies: ["Backoff", "MobyCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpoolTests",
            dependencies: ["Spool", "MobyTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "InfluxTests",
            dependencies: [
                "Backoff", "Influx", "Spool", "MobyTestSupport", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MobyCoreTests",
            dependencies: ["MobyCore", "MobyTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EdgeTests",
            dependencies: [
                "Edge", "MQTT", "MobyCore", "Simulation", "Spool", "MobyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "MobyCore", "MobyTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FaultTests",
            dependencies: [
                "MQTT", "Influx", "Spool", "MobyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MobyServerTests",
            dependencies: [
                "MobyServer", "MQTT", "Influx", "MobyTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz sets MOBY_FUZZ=1 and builds with -sanitize=fuzzer in .build-fuzz),
// never part of a normal build.
if ProcessInfo.processInfo.environment["MOBY_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "MobyFuzz",
            dependencies: ["MQTTCodec", "MobyCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/MobyFuzz",
            swiftSettings: strict
        ))
}

// Micro-benchmarks of the hot path (ordo-one/benchmark), only when asked for (`make bench-micro`
// sets MOBY_BENCHMARKS=1), so that builds and tests never resolve or build the benchmark package.
if ProcessInfo.processInfo.environment["MOBY_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "HotPathBenchmarks",
            dependencies: [
                "MQTT", "Influx", "MobyCore", "MobyServer",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
}
