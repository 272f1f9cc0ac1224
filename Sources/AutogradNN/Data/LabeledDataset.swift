import Autograd
import Foundation

/// Examples for classification: a feature matrix and one label per example, the index of its class, 0 ..< K
/// (K = ``classCount``; K = 2, labels 0 or 1, for binary classification).
///
/// Shapes: `features` [N, F], `labels` [N] (whole numbers stored in `Scalar`). Load one from a CSV file with
/// ``init(csv:source:expectedFeatureCount:classCount:)`` or ``init(contentsOf:expectedFeatureCount:classCount:)``,
/// split it with ``split(trainingFraction:seed:file:line:)`` and
/// standardize it with a ``Standardizer`` fitted on the training part.
public struct LabeledDataset<Scalar: TensorScalar>: Sendable {
    /// The name of each feature column, F of them.
    public let featureNames: [String]
    /// The name of the label column.
    public let labelName: String
    /// The features, [N, F], one row per example.
    public let features: Tensor<Scalar>
    /// The labels, [N], each a class index in 0 ..< ``classCount``.
    public let labels: Tensor<Scalar>
    /// K, the number of classes: 2 for binary data (labels 0 and 1), 10 for the digits.
    public let classCount: Int

    /// N, the number of examples.
    public var count: Int { labels.count }

    /// A data set from tensors. Stops unless `features` is [N, F] with F = `featureNames.count`, `labels` is [N],
    /// `classCount` is at least 2 and every label is a whole number in 0 ..< classCount.
    public init(features: Tensor<Scalar>, labels: Tensor<Scalar>, featureNames: [String], labelName: String,
                classCount: Int = 2, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        if features.rank != 2 || features.shape[1] != featureNames.count || labels.shape != [features.shape[0]] {
            operationFailure("LabeledDataset(features:labels:)", "features have shape \(describe(features.shape)) and "
                + "labels \(describe(labels.shape)) for \(featureNames.count) feature names; they must be [N, "
                + "\(featureNames.count)] and [N]", at: loc)
        }
        if classCount < 2 {
            operationFailure("LabeledDataset(features:labels:)", "classCount is \(classCount); a classification data "
                + "set has at least 2 classes", at: loc)
        }
        let bound = Scalar(classCount)
        if let i = labels.scalars.firstIndex(where: { !($0 >= 0 && $0 < bound && $0.rounded() == $0) }) {
            operationFailure("LabeledDataset(features:labels:)", "label \(i) is \(labels.scalars[i]); labels must be "
                + (classCount == 2 ? "0 or 1" : "whole numbers in 0 ..< \(classCount)"), at: loc)
        }
        self.features = features
        self.labels = labels
        self.featureNames = featureNames
        self.labelName = labelName
        self.classCount = classCount
    }

    /// The examples at `indices`, in that order (repeats allowed). Stops if an index is out of range.
    public func selecting(_ indices: [Int], file: StaticString = #fileID, line: UInt = #line) -> LabeledDataset {
        LabeledDataset(features: features.gathering(atIndices: indices, alongAxis: 0, file: file, line: line),
                       labels: labels.gathering(atIndices: indices, file: file, line: line),
                       featureNames: featureNames, labelName: labelName, classCount: classCount)
    }

    /// A fixed random split: the examples are shuffled by ``randomPermutation(count:using:)`` with
    /// `SeededGenerator(seed: seed)`; the first round(N · trainingFraction) go to training, the rest to test.
    /// The same seed gives the same split on every machine. For 569 examples and 0.8: 455 and 114.
    public func split(trainingFraction: Double, seed: UInt64, file: StaticString = #fileID, line: UInt = #line)
        -> (training: LabeledDataset, test: LabeledDataset) {
        if !(trainingFraction >= 0 && trainingFraction <= 1) {
            operationFailure("split(trainingFraction:seed:)", "trainingFraction must lie in [0, 1], got \(trainingFraction)",
                      at: CallSite(file: file, line: line))
        }
        var generator = SeededGenerator(seed: seed)
        let order = randomPermutation(count: count, using: &generator)
        let n = Int((Double(count) * trainingFraction).rounded())
        return (selecting(Array(order[..<n])), selecting(Array(order[n...])))
    }
}

/// A uniformly random permutation of 0 ..< count (Fisher–Yates), written out rather than taken from the standard
/// library's `shuffle`, whose algorithm is not promised to stay the same across Swift versions: a seeded generator
/// gives the same permutation everywhere. Uses `count − 1` draws; the modulo bias is below count / 2⁶⁴.
public func randomPermutation<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [Int] {
    var order = Array(0..<Swift.max(count, 0))
    var i = order.count - 1
    while i > 0 {
        let j = Int(generator.next() % UInt64(i + 1))
        order.swapAt(i, j)
        i -= 1
    }
    return order
}

// MARK: - Reading CSV files

/// A data file that could not be read or is malformed. Loading stops at the first problem and returns nothing.
public enum DataFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or is not UTF-8 text.
    case unreadable(path: String, reason: String)
    /// The text breaks the format at a place given by 1-based line and column (the column counts characters, and
    /// points at the start of the offending field).
    case malformed(source: String, line: Int, column: Int, reason: String)

    /// `source:line:column: reason`, as compilers report positions, or the unreadable path and why.
    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .malformed(source, line, column, reason): "\(source):\(line):\(column): \(reason)"
        }
    }
}

extension LabeledDataset {
    /// Reads comma-separated text: a header line naming the F feature columns and then the label column, then
    /// one example per line with F numbers and a label.
    ///
    /// Format: fields separated by `,` (no quoting; spaces around a field are ignored); lines end with `\n` or
    /// `\r\n` (no other character ends a line); the last line may or may not end with a newline. Features are
    /// decimal numbers as Swift's `Float(_:)` / `Double(_:)` read them (`1001`, `0.1184`, `1e-3`), and must be
    /// finite in `Scalar` (`1e40` overflows `Float`). Errors quote at most the first 40 characters of a field.
    /// With `classCount` 2 (the default) the label is `1` or `M` (positive; malignant in the Breast Cancer data)
    /// or `0` or `B` (negative; benign); with more classes it is a whole number in 0 ..< classCount (`7` for the
    /// digit 7).
    ///
    /// Every line is checked before anything is returned: the first problem throws
    /// ``DataFileError/malformed(source:line:column:reason:)`` with its line and column and a reason naming the
    /// field, and no data set is made (all or nothing). `source` names the text in messages (a file name).
    /// `expectedFeatureCount`, if given, is checked against the header.
    /// - Complexity: O(size of the text).
    public init(csv text: String, source: String = "CSV", expectedFeatureCount: Int? = nil,
                classCount: Int = 2) throws {
        func fail(_ line: Int, _ column: Int, _ reason: String) -> DataFileError {
            .malformed(source: source, line: line, column: column, reason: reason)
        }
        // Swift reads "\r\n" as one Character, so this splits on "\n" and "\r\n" alike, and on nothing else: a
        // form feed, vertical tab or Unicode line separator inside a field is part of the field.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last?.isEmpty == true { lines.removeLast() }   // the newline that ends the last line
        guard let headerLine = lines.first else { throw fail(1, 1, "the file is empty; it must start with a header line") }

        let header = Self.fields(of: headerLine)
        if header.count < 2 {
            throw fail(1, 1, "the header names \(header.count) column; it needs at least one feature column and the "
                + "label column")
        }
        if let expectedFeatureCount, header.count != expectedFeatureCount + 1 {
            throw fail(1, 1, "the header names \(header.count) columns but \(expectedFeatureCount + 1) are expected "
                + "(\(expectedFeatureCount) features and the label)")
        }
        if let empty = header.firstIndex(where: { $0.text.isEmpty }) {
            throw fail(1, header[empty].column, "column \(empty + 1) of the header has no name")
        }
        if header.dropLast().allSatisfy({ Scalar($0.text) != nil }) {
            throw fail(1, 1, "the first line holds numbers, but it must be a header naming the columns")
        }
        let featureCount = header.count - 1
        let names = header.map(\.text)

        var values: [Scalar] = []
        var labels: [Scalar] = []
        values.reserveCapacity((lines.count - 1) * featureCount)
        labels.reserveCapacity(lines.count - 1)
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            let fields = Self.fields(of: line)
            if line.allSatisfy(\.isWhitespace) {
                throw fail(number, 1, "empty line; every line after the header holds one example")
            }
            if fields.count != header.count {
                let column = fields.count > header.count ? fields[header.count].column : (fields.last?.end ?? 1)
                throw fail(number, column, "the line has \(fields.count) fields but the header names \(header.count) "
                    + "columns (\(featureCount) features and the label)")
            }
            for (k, field) in fields.dropLast().enumerated() {
                let what = "field \(k + 1) (\(names[k]))"
                if field.text.isEmpty { throw fail(number, field.column, "\(what) is empty") }
                guard let value = Scalar(field.text) else {
                    throw fail(number, field.column, "\(what) is \(Self.quoted(field.text)), which is not a number")
                }
                if !value.isFinite {
                    if let wide = Double(field.text), wide.isFinite {
                        throw fail(number, field.column, "\(what) is \(Self.quoted(field.text)), which overflows "
                            + "\(Scalar.self) (its largest finite value is \(Scalar.greatestFiniteMagnitude)); load the "
                            + "file as LabeledDataset<Double>, or rescale the column")
                    }
                    throw fail(number, field.column, "\(what) is \(Self.quoted(field.text)); features must be finite "
                        + "numbers")
                }
                values.append(value)
            }
            let label = fields[featureCount]
            switch (label.text, classCount) {
            case ("M", 2): labels.append(1)
            case ("B", 2): labels.append(0)
            default:
                if let k = Int(label.text), k >= 0, k < classCount {
                    labels.append(Scalar(k))
                } else {
                    throw fail(number, label.column, "the label (field \(featureCount + 1), \(names[featureCount])) is "
                        + "\(Self.quoted(label.text)); it must be "
                        + (classCount == 2 ? "M or 1 (positive), or B or 0 (negative)"
                                           : "a whole number in 0 ..< \(classCount) (a class index)"))
                }
            }
        }
        if labels.isEmpty { throw fail(2, 1, "no examples: the file has a header but no lines after it") }
        self.init(features: Tensor(shape: [labels.count, featureCount], scalars: values),
                  labels: Tensor(labels), featureNames: Array(names.dropLast()), labelName: names[featureCount],
                  classCount: classCount)
    }

    /// Reads a CSV file in the format of ``init(csv:source:expectedFeatureCount:classCount:)``; messages name the
    /// file.
    /// - Throws: ``DataFileError``: unreadable, or malformed with line and column.
    public init(contentsOf url: URL, expectedFeatureCount: Int? = nil, classCount: Int = 2) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DataFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataFileError.unreadable(path: url.path, reason: "the file is not UTF-8 text")
        }
        try self.init(csv: text, source: url.lastPathComponent, expectedFeatureCount: expectedFeatureCount,
                      classCount: classCount)
    }

    /// A field as an error quotes it: whole if short, else its first 40 characters and its length (a corrupt file
    /// can hold a field of megabytes).
    private static func quoted(_ text: String) -> String {
        text.count <= 60 ? "\"\(text)\"" : "\"\(text.prefix(40))…\" (\(text.count) characters)"
    }

    /// The comma-separated fields of a line, each trimmed of spaces, with its 1-based starting column and the
    /// column just past its end.
    private static func fields(of line: Substring) -> [(text: String, column: Int, end: Int)] {
        var result: [(text: String, column: Int, end: Int)] = []
        var column = 1
        for raw in line.split(separator: ",", omittingEmptySubsequences: false) {
            let leading = raw.prefix { $0 == " " || $0 == "\t" }.count
            let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            result.append((text, column + (text.isEmpty ? 0 : leading), column + raw.count))
            column += raw.count + 1
        }
        return result
    }
}
