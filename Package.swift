// swift-tools-version:6.0
import PackageDescription

// No package dependencies, by design: the Swift toolchain, Glibc and the system SQLite only.
let package = Package(
    name: "fuckbigtech",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fuckbigtech", targets: ["fuckbigtech"]),
        .library(name: "AgentOS", targets: ["AgentOS"]),
        .library(name: "Commands", targets: ["Commands"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "AgentOS",
            dependencies: ["CSQLite"]
        ),
        // The command line: parsing, help, output. The library below it knows nothing of it.
        .target(
            name: "Commands",
            dependencies: ["AgentOS"]
        ),
        .executableTarget(
            name: "fuckbigtech",
            dependencies: ["Commands"]
        ),
        // What both test targets share: temp folders, the binary under test, running processes,
        // repository paths, waiting with a deadline, external tools. A plain library (test targets
        // cannot depend on each other); it imports Foundation only, never the code under test.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "AgentOSTests",
            dependencies: ["AgentOS", "Commands", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["AgentOS", "Commands", "TestSupport"],
            // Agent scripts the tests run by absolute path (found from #filePath), not resources.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
