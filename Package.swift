// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Autograd",
    products: [
        .library(name: "Autograd", targets: ["Autograd"]),
        .executable(name: "autograd", targets: ["AutogradCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "AutogradCLI",
            dependencies: [
                "Autograd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "AutogradTests",
            dependencies: ["Autograd"]
        ),
        .testTarget(name: "KernelTests", dependencies: ["CAutogradKernels"]),
    ],
    swiftLanguageModes: [.v6]
)
