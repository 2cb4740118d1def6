// swift-tools-version:6.0
// emergence: predicts the pretraining compute at which a capability emerges (see README.md).
import PackageDescription

let package = Package(
    name: "emergence",
    products: [
        .executable(name: "emergence", targets: ["emergence"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries, linked from the Debian -dev packages (.ci/run installs them).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // Pure math: no I/O, deterministic for a given seed.
        .target(name: "EmergenceCore"),
        // Our HTTP/1.1 server; knows nothing of emergence.
        .target(name: "HTTP", dependencies: [
            "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // SQLite wrapper and the migration runner (each module that owns tables brings its migrations).
        .target(name: "Storage", dependencies: ["CSQLite"]),
        // Upload formats: bytes in, evaluations or row-numbered problems out (CSV, JSON, NDJSON,
        // lm-evaluation-harness), read piece by piece in bounded memory. No I/O, no HTTP, no SQLite.
        .target(name: "Ingestion", dependencies: ["EmergenceCore"]),
        // SVG drawing from fit results and rows: pure, no I/O.
        .target(name: "Charts", dependencies: ["EmergenceCore"]),
        // The job system: the job table and all its SQL, the queue, the worker pool, options of every
        // kind read once, the engine dispatch and the child-process runner.
        .target(name: "Jobs", dependencies: [
            "EmergenceCore", "Ingestion", "Storage",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Studies, evaluations, handlers: joins the modules above.
        .target(name: "EmergenceService", dependencies: [
            "EmergenceCore", "Ingestion", "HTTP", "Storage", "Charts", "Jobs",
            .product(name: "Logging", package: "swift-log"),
        ], resources: [
            // openapi.json (a symlink to the top-level file), compiled in as bytes.
            .embedInCode("API/openapi.json"),
        ]),
        // The executable: `serve`, `fit`, `simulate`, `calibrate`, `bench`, `backup`, `plot`, `observe`,
        // `backtest`, `compare`, `ablate`, `advise`, `fuzz-fit` and the internal `fit-worker`.
        .executableTarget(name: "emergence", dependencies: [
            "EmergenceService", "EmergenceCore", "Ingestion", "Charts", "Jobs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tiny server for bench/http/run.sh (HTTP module alone); not part of the product.
        .executableTarget(name: "http-bench-server", dependencies: [
            "HTTP", .product(name: "Logging", package: "swift-log"),
        ], path: "bench/http/BenchServer"),

        .testTarget(name: "EmergenceCoreTests", dependencies: ["EmergenceCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "EmergenceService"]),
        .testTarget(name: "IngestionTests", dependencies: ["Ingestion", "EmergenceCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts", "EmergenceCore", "Ingestion"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EmergenceServiceTests", dependencies: ["EmergenceService", "EmergenceCore", "Ingestion", "HTTP", "Storage", "Jobs",
                                                               "CSQLite"],
                    resources: [.copy("Fixtures")]),
    ],
    // Every target, tests included, in Swift 6 language mode (full data-race checking).
    swiftLanguageModes: [.v6]
)
