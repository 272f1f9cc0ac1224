import Autograd
import Foundation

/// The Optical Recognition of Handwritten Digits data set, shipped with this module: 1 797 images of handwritten
/// digits, each 8 × 8 pixels with values 0 to 16, labelled with the digit 0–9 (174 to 183 of each).
///
/// Source: E. Alpaydin, C. Kaynak, UCI Machine Learning Repository, 1998, DOI 10.24432/C50P49; license
/// CC BY 4.0. The file, `Resources/digits.csv`, and how it was made are described in `Resources/DATA.md`.
///
/// The loaded data set holds each image as a row of 64 features (row-major) and ``LabeledDataset/classCount``
/// 10. For a convolutional network, scale the pixels to [0, 1] and give them an image shape:
///
/// ```swift
/// let data: LabeledDataset<Float> = try Digits.load()
/// let (training, test) = data.split(trainingFraction: 0.8, seed: 0)      // 1 438 and 359 images
/// let images = Digits.images(training.features)                           // [1438, 1, 8, 8], values in [0, 1]
/// ```
public enum Digits {
    /// 1 797.
    public static let exampleCount = 1797
    /// 64, the pixels of one image.
    public static let featureCount = 64
    /// 8: images are `side` × `side` pixels.
    public static let side = 8
    /// 10, the digits 0–9.
    public static let classCount = 10

    /// Where the CSV file is, inside this module's resource bundle (see ``BreastCancer/fileURL``).
    public static var fileURL: URL? {
        Bundle.module.url(forResource: "digits", withExtension: "csv", subdirectory: "Resources")
    }

    /// Reads and validates the shipped file: features [1797, 64] (pixel values 0…16 as they are in the file),
    /// labels [1797] (the digits), ``LabeledDataset/classCount`` 10.
    /// - Throws: ``DataFileError`` if the file is missing or malformed (which a test rules out).
    public static func load<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws -> LabeledDataset<Scalar> {
        try LabeledDataset(shippedFile: fileURL, named: "digits.csv", featureCount: featureCount,
                           classCount: classCount)
    }

    /// Rows of 64 pixels as images for a convolutional network: [N, 64] → [N, 1, 8, 8] (one channel, NCHW),
    /// divided by 16 so that values lie in [0, 1]. Stops unless `features` is [N, 64].
    public static func images<Scalar: TensorScalar>(_ features: Tensor<Scalar>, file: StaticString = #fileID,
                                                   line: UInt = #line) -> Tensor<Scalar> {
        if features.rank != 2 || features.shape[1] != featureCount {
            operationFailure("Digits.images(_:)", "features have shape \(describe(features.shape)); they must be "
                + "[N, \(featureCount)], one row of 8 × 8 pixels per image", at: CallSite(file: file, line: line))
        }
        return features.reshaped(to: [features.shape[0], 1, side, side]) / 16
    }
}
