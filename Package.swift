// swift-tools-version:6.0
import PackageDescription

// No package dependencies, by design: the Swift toolchain, Glibc and the system SQLite only.
let package = Package(
    name: "fuckbigtech",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fuckbigtech", targets: ["fuckbigtech"]),
        .library(name: "AgentOS", targets: ["AgentOS"]),
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
        .executableTarget(
            name: "fuckbigtech",
            dependencies: ["AgentOS"]
        ),
        .testTarget(
            name: "AgentOSTests",
            dependencies: ["AgentOS"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["AgentOS"],
            // Agent scripts the tests run by absolute path (found from #filePath), not resources.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
