import Autograd
import Foundation

/// The Breast Cancer Wisconsin (Diagnostic) data set, shipped with this module: 569 examples, 30 features
/// computed from a digitized image of a fine needle aspirate of a breast mass, and the diagnosis (212 malignant,
/// labelled 1; 357 benign, labelled 0).
///
/// Source: W. H. Wolberg, W. N. Street, O. L. Mangasarian, UCI Machine Learning Repository, 1995,
/// DOI 10.24432/C5DW2B; license CC BY 4.0. The file, `Resources/breast_cancer.csv`, and how it was made are
/// described in `Resources/DATA.md` beside it.
///
/// ```swift
/// let data: LabeledDataset<Float> = try BreastCancer.load()
/// let (training, test) = data.split(trainingFraction: 0.8, seed: 0)     // 455 and 114 examples
/// ```
public enum BreastCancer {
    /// 569.
    public static let exampleCount = 569
    /// 30.
    public static let featureCount = 30

    /// Where the CSV file is: inside this module's resource bundle, found through `Bundle.module`, which works from
    /// `swift run`, `swift test` and an installed executable with its bundle beside it.
    public static var fileURL: URL? {
        Bundle.module.url(forResource: "breast_cancer", withExtension: "csv", subdirectory: "Resources")
    }

    /// Reads and validates the shipped file (see ``LabeledDataset/init(csv:source:expectedFeatureCount:classCount:)``).
    /// - Throws: ``DataFileError`` if the file is missing or malformed (which a test rules out).
    public static func load<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws -> LabeledDataset<Scalar> {
        try LabeledDataset(shippedFile: fileURL, named: "breast_cancer.csv", featureCount: featureCount, classCount: 2)
    }
}

extension LabeledDataset {
    /// A data set shipped in this module's `Resources/` (its URL from the bundle, nil if missing), read with
    /// ``init(contentsOf:expectedFeatureCount:classCount:)``.
    init(shippedFile url: URL?, named name: String, featureCount: Int, classCount: Int) throws {
        guard let url else {
            throw DataFileError.unreadable(path: "Resources/\(name)",
                                           reason: "the file is missing from the AutogradNN resource bundle")
        }
        try self.init(contentsOf: url, expectedFeatureCount: featureCount, classCount: classCount)
    }
}
