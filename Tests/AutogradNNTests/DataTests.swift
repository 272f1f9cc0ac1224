import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct BreastCancerFileTests {
    @Test func theShippedFileLoads() throws {
        let data: LabeledDataset<Float> = try BreastCancer.load()
        #expect(data.count == 569 && data.features.shape == [569, 30] && data.labels.shape == [569])
        #expect(data.labels.scalars.filter { $0 == 1 }.count == 212)   // malignant
        #expect(data.featureNames.first == "radius_mean" && data.featureNames.last == "fractal_dimension_worst")
        #expect(data.labelName == "diagnosis")
        // The first example is UCI's ID 842302: malignant, radius 17.99, ..., worst fractal dimension 0.1189.
        #expect(data.labels.scalars[0] == 1)
        #expect(Array(data.features.scalars.prefix(4)) == [17.99, 10.38, 122.8, 1001])
        #expect(data.features.scalars[29] == 0.1189)
        // Double reads the same text.
        let double: LabeledDataset<Double> = try BreastCancer.load()
        #expect(double.features.scalars[0] == 17.99)
    }

    @Test func theDataNoteNamesSourceAndLicense() throws {
        let note = try String(contentsOf: try #require(BreastCancer.fileURL).deletingLastPathComponent()
            .appendingPathComponent("DATA.md"), encoding: .utf8)
        #expect(note.contains("10.24432/C5DW2B") && note.contains("CC BY 4.0") && note.contains("Wolberg"))
    }
}

@Suite struct CSVLoaderTests {
    /// Loads `text` and returns the error's line, column and reason (nil if it loaded).
    func problem(_ text: String, expectedFeatureCount: Int? = nil) -> (line: Int, column: Int, reason: String)? {
        do {
            _ = try LabeledDataset<Float>(csv: text, source: "test.csv", expectedFeatureCount: expectedFeatureCount)
            return nil
        } catch let DataFileError.malformed(source, line, column, reason) {
            #expect(source == "test.csv")
            return (line, column, reason)
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func expectProblem(_ text: String, line: Int, column: Int, _ reason: String, expectedFeatureCount: Int? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard let p = problem(text, expectedFeatureCount: expectedFeatureCount) else {
            Issue.record("loaded without error", sourceLocation: sourceLocation)
            return
        }
        #expect(p.line == line && p.column == column, "at \(p.line):\(p.column)", sourceLocation: sourceLocation)
        #expect(p.reason.contains(reason), "\(p.reason)", sourceLocation: sourceLocation)
    }

    @Test func wellFormedText() throws {
        let data = try LabeledDataset<Double>(csv: "a, b ,label\r\n1.5,-2,M\r\n3e2, 4 ,0\n0,0,B\n1,1,1")
        #expect(data.featureNames == ["a", "b"] && data.labelName == "label")
        #expect(data.features.scalars == [1.5, -2, 300, 4, 0, 0, 1, 1] && data.labels.scalars == [1, 0, 0, 1])
    }

    @Test func eachMalformationIsReportedWithLineAndColumn() {
        expectProblem("", line: 1, column: 1, "the file is empty")
        expectProblem("a,b,label\n", line: 2, column: 1, "no examples")
        expectProblem("1,2,0\n3,4,1\n", line: 1, column: 1, "must be a header")
        expectProblem("label\n1\n", line: 1, column: 1, "needs at least one feature column")
        expectProblem("a,,label\n1,2,M\n", line: 1, column: 3, "column 2 of the header has no name")
        expectProblem("a,b,label\n1,2,M\n3,M\n", line: 3, column: 4, "the line has 2 fields but the header names 3")
        expectProblem("a,b,label\n1,2,3,M\n", line: 2, column: 7, "the line has 4 fields")
        expectProblem("a,b,label\n1,x2,M\n", line: 2, column: 3, "field 2 (b) is \"x2\", which is not a number")
        expectProblem("a,b,label\n1,,M\n", line: 2, column: 3, "field 2 (b) is empty")
        expectProblem("a,b,label\n1,  2.5.1,M\n", line: 2, column: 5, "field 2 (b) is \"2.5.1\"")
        expectProblem("a,b,label\nnan,1,M\n", line: 2, column: 1, "features must be finite numbers")
        expectProblem("a,b,label\n1,1e40,M\n", line: 2, column: 3,
                      "field 2 (b) is \"1e40\", which overflows Float (its largest finite value is 3.4028235e+38)")
        // A form feed (or vertical tab, or Unicode line separator) inside a field is part of it, not a line break.
        expectProblem("a,b,label\n1,2\u{0C}3,M\n", line: 2, column: 3, "field 2 (b) is \"2\u{0C}3\", which is not a number")
        expectProblem("a,b,label\n1\u{2028}2,3,M\n", line: 2, column: 1, "which is not a number")
        expectProblem("a,b,label\n1,2,X\n", line: 2, column: 5, "the label (field 3, label) is \"X\"; it must be M or 1")
        expectProblem("a,b,label\n1,2,M\n\n3,4,B\n", line: 3, column: 1, "empty line")
        expectProblem("a,b,c,label\n1,2,3,M\n", line: 1, column: 1, "the header names 4 columns but 3 are expected",
                      expectedFeatureCount: 2)
    }

    @Test func aProblemOnTheLastLineLoadsNothing() {
        var text = "x,y,label\n"
        for i in 0..<500 { text += "\(i),\(i * 2),\(i % 2)\n" }
        text += "1,2,3\n"
        expectProblem(text, line: 502, column: 5, "the label (field 3, label) is \"3\"")
    }

    @Test func messagesReadLikeCompilerDiagnostics() {
        let error = DataFileError.malformed(source: "data.csv", line: 3, column: 5, reason: "field 2 (b) is empty")
        #expect(error.description == "data.csv:3:5: field 2 (b) is empty")
    }

    @Test func filesAreReadWithTheirNameInMessages() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("broken.csv")
        try "a,label\n1,M\nz,B\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: DataFileError.malformed(source: "broken.csv", line: 3, column: 1,
                                                reason: "field 1 (a) is \"z\", which is not a number")) {
            try LabeledDataset<Float>(contentsOf: url)
        }
        try Data([0x61, 0x2C, 0xFF, 0xFE]).write(to: url)
        #expect(throws: DataFileError.unreadable(path: url.path, reason: "the file is not UTF-8 text")) {
            try LabeledDataset<Float>(contentsOf: url)
        }
        let missing = directory.appendingPathComponent("missing.csv")
        let error = #expect(throws: DataFileError.self) { try LabeledDataset<Float>(contentsOf: missing) }
        #expect(error?.description.hasPrefix("cannot read \(missing.path)") == true)
    }

    @Test func aHugeFieldIsCutInTheMessage() {
        let huge = String(repeating: "x", count: 20_000_000)
        guard let p = problem("a,b,label\n1,\(huge),M\n") else { Issue.record("loaded without error"); return }
        #expect(p.reason == "field 2 (b) is \"\(String(repeating: "x", count: 40))…\" (20000000 characters), which is "
            + "not a number")
    }
}

@Suite struct SplitAndStandardizeTests {
    @Test func splitIsFixedDisjointAndComplete() throws {
        let data: LabeledDataset<Double> = try BreastCancer.load()
        let (training, test) = data.split(trainingFraction: 0.8, seed: 0)
        #expect(training.count == 455 && test.count == 114)
        let again = data.split(trainingFraction: 0.8, seed: 0)
        #expect(again.training.features.scalars == training.features.scalars)
        // Every example lands in exactly one part: compare the multisets of first features.
        let all = (training.features[.all, 0].scalars + test.features[.all, 0].scalars).sorted()
        #expect(all == data.features[.all, 0].scalars.sorted())
        #expect(data.split(trainingFraction: 0.8, seed: 1).training.features.scalars != training.features.scalars)
    }

    @Test func randomPermutationIsAPermutationAndReproducible() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let p = randomPermutation(count: 100, using: &a)
        #expect(p.sorted() == Array(0..<100) && p != Array(0..<100))
        #expect(randomPermutation(count: 100, using: &b) == p)
        #expect(randomPermutation(count: 0, using: &a).isEmpty)
    }

    @Test func standardizerUsesTheFittedStatistics() {
        let training = Tensor<Double>([[1, 10, 5], [3, 20, 5], [5, 60, 5]])
        let s = Standardizer(fittingTo: training)
        expectTensor(s.mean, shape: [3], [3, 30, 5])
        expectTensor(s.standardDeviation, shape: [3], [(8.0 / 3).squareRoot(), (1400.0 / 3).squareRoot(), 1])
        let z = s(training)
        expectClose(z.mean(alongAxes: 0).scalars, [0, 0, 0], tolerance: 1e-12)
        expectClose(sqrt(z.squared().mean(alongAxes: 0)).scalars, [1, 1, 0], tolerance: 1e-12)
        // Other data is scaled with the training statistics, not its own.
        expectTensor(s(Tensor<Double>([[3, 30, 6]])), shape: [1, 3], [0, 0, 1])
    }
}
