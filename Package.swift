// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hubmirror",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hubmirror", targets: ["hubmirror"]),
        .executable(name: "hubmirror-fakehub", targets: ["hubmirror-fakehub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries, bottom layer: each imported by exactly one Swift target.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Linux file calls Glibc's module lacks (sync_file_range); under HubStore.
        .target(name: "CFileShims"),
        // Non-temporal memory copy (the transfer window's one copy of every byte).
        .target(name: "CMemory"),
        // SHA-256 on the SHA extensions, two messages at once (the transfer engine's paired hashing).
        .target(name: "CSHA256"),

        // Pure domain logic: ids, revisions, encodings, globs, path checks, manifests, differ, errors.
        .target(name: "HubCore", swiftSettings: strict),
        // SHA-256 / SHA-1 / git blob ids over libcrypto; paired SHA-256 over CSHA256.
        .target(name: "HubDigest", dependencies: ["CCrypto", "CSHA256"], swiftSettings: strict),
        // libcurl wrappers: easy + multi handles, header parsing, redirect and token policy.
        .target(name: "HubHTTP", dependencies: ["CCurl", "HubCore"], swiftSettings: strict),
        // The Hub's HTTP API (revision info, tree listing, paths-info) as a client.
        .target(name: "HubAPI", dependencies: ["HubCore", "HubHTTP", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // The huggingface_hub cache layout, atomic publication, hubmirror state.
        .target(name: "HubStore", dependencies: ["CFileShims", "HubCore", "HubDigest"], swiftSettings: strict),
        // Chunk planner, resume journal, hashing pipeline, the multi-handle transfer engine.
        .target(name: "HubTransfer", dependencies: ["CMemory", "HubCore", "HubDigest", "HubHTTP", "HubStore", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // Peer mode: the peer protocol's wire format, a peer as a content source, its API client.
        .target(name: "HubPeer", dependencies: ["HubCore", "HubHTTP", "HubStore", "HubTransfer"], swiftSettings: strict),
        // Orchestration: API -> manifest -> diff -> transfer -> publish.
        .target(name: "HubSync", dependencies: ["HubCore", "HubAPI", "HubHTTP", "HubPeer", "HubStore", "HubTransfer", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // Air-gapped bundles: the format (manifest, volume index, tar), export, verified resumable import.
        .target(name: "HubBundle", dependencies: ["HubCore", "HubDigest", "HubStore"], swiftSettings: strict),
        // `verify` (and later `gc`): checks and repairs of the store.
        .target(name: "HubMaintenance", dependencies: [
            "HubCore", "HubDigest", "HubStore", "HubAPI", "HubHTTP", "HubTransfer", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // `mirror --config`: cron runs over a configured list of repos.
        .target(name: "HubOperations", dependencies: [
            "HubCore", "HubHTTP", "HubPeer", "HubStore", "HubSync", "HubTransfer", "HubMaintenance",
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // `hubmirror serve`: the Hub API over the store (Hummingbird 2).
        .target(name: "HubServer", dependencies: [
            "HubCore", "HubStore", "HubSync", "HubDigest", "HubAPI", "HubHTTP", "HubPeer", "HubTransfer",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
        ], swiftSettings: strict),
        // A fault-injecting HF-compatible hub (+ separate CDN) for tests, the demo and benchmarks.
        .target(name: "HubFakeHub", dependencies: [
            "HubCore", "HubDigest",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ], swiftSettings: strict),

        .executableTarget(name: "hubmirror", dependencies: [
            "HubCore", "HubAPI", "HubPeer", "HubStore", "HubTransfer", "HubSync", "HubServer", "HubMaintenance", "HubOperations",
            "HubBundle", "HubDigest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .executableTarget(name: "hubmirror-fakehub", dependencies: [
            "HubCore", "HubFakeHub",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),

        .testTarget(name: "HubCoreTests", dependencies: ["HubCore", "HubDigest"]),
        .testTarget(name: "HubStoreTests", dependencies: ["HubCore", "HubStore"]),
        .testTarget(name: "HubTransferTests", dependencies: ["HubCore", "HubTransfer", "HubHTTP", "HubDigest", "HubStore"]),
        .testTarget(name: "IntegrationTests", dependencies: ["HubCore", "HubDigest", "HubFakeHub", "HubStore", "HubSync", "HubAPI", "HubTransfer", "HubHTTP", "HubMaintenance", "HubOperations", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FakeHubTests", dependencies: ["HubFakeHub", "HubCore", "HubDigest"]),
        .testTarget(name: "PeerTests", dependencies: [
            "HubCore", "HubDigest", "HubFakeHub", "HubHTTP", "HubOperations", "HubPeer", "HubServer", "HubStore", "HubSync", "HubTransfer",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "HubBundleTests", dependencies: ["HubBundle", "HubCore", "HubDigest", "HubFakeHub", "HubStore"]),
        .testTarget(name: "ServerTests", dependencies: ["HubCore", "HubStore", "HubServer", "HubFakeHub", "HubDigest", "HubHTTP"]),
    ]
)
