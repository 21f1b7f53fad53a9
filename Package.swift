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
        .testTarget(
            name: "AgentOSTests",
            dependencies: ["AgentOS", "Commands"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["AgentOS", "Commands"],
            // Agent scripts the tests run by absolute path (found from #filePath), not resources.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
