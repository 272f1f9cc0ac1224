// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Autograd",
    products: [
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "AutogradNN", targets: ["AutogradNN"]),
        .executable(name: "autograd", targets: ["AutogradCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation`: builds the DocC catalog in Sources/Autograd/Autograd.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Test only: property-based tests (random shapes, broadcasts, axes) in AutogradTests.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Numeric kernels in C: matrix product, elementwise math, reductions, strided copies.
        // Functions carry per-function target attributes and choose AVX-512 / AVX2 / portable code at run time,
        // so the package needs no unsafe compiler flags.
        .target(name: "CAutogradKernels"),
        .target(
            name: "Autograd",
            dependencies: ["CAutogradKernels"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Neural-network pieces on top of the core: layers, losses, optimizers, data, parameter files.
        // Resources/ holds the Breast Cancer Wisconsin data (breast_cancer.csv) and its DATA.md.
        .target(
            name: "AutogradNN",
            dependencies: ["Autograd"],
            resources: [.copy("Resources")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // The commands of the `autograd` tool, as a library so the tests can run them.
        // Resources/ holds the Mauna Loa CO₂ record of `autograd example gp` (mauna_loa_co2_monthly.csv) and its
        // DATA.md.
        .target(
            name: "AutogradTool",
            dependencies: [
                "Autograd",
                "AutogradNN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(name: "AutogradCLI", dependencies: ["AutogradTool"]),
        .testTarget(
            name: "AutogradTests",
            dependencies: ["Autograd", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "AutogradNNTests", dependencies: ["AutogradNN", "Autograd"]),
        .testTarget(name: "AutogradToolTests", dependencies: ["AutogradTool", "Autograd", "AutogradNN"]),
        .testTarget(name: "KernelTests", dependencies: ["CAutogradKernels"]),
    ],
    swiftLanguageModes: [.v6]
)
