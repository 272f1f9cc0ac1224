import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct DigitsFileTests {
    @Test func theShippedFileLoads() throws {
        let data: LabeledDataset<Float> = try Digits.load()
        #expect(data.count == 1797 && data.features.shape == [1797, 64] && data.classCount == 10)
        #expect(data.featureNames.first == "pixel_0_0" && data.featureNames.last == "pixel_7_7")
        #expect(data.labelName == "digit")
        // Each digit occurs 174 to 183 times; pixels are counts 0...16.
        let labels = data.labels.scalars.map { Int($0) }
        let counts = (0..<10).map { d in labels.filter { $0 == d }.count }
        #expect(counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        #expect(data.features.scalars.allSatisfy { $0 >= 0 && $0 <= 16 && $0.rounded() == $0 })
        // The first image is a 0: its first row of pixels as in the file.
        #expect(labels[0] == 0)
        #expect(Array(data.features.scalars.prefix(8)) == [0, 0, 5, 13, 9, 1, 0, 0])
    }

    @Test func imagesAreNCHWInTheUnitInterval() throws {
        let data: LabeledDataset<Double> = try Digits.load()
        let images = Digits.images(data.features)
        #expect(images.shape == [1797, 1, 8, 8])
        #expect(images.scalars[2] == 5.0 / 16)
        #expect(images.scalars.max()! <= 1 && images.scalars.min()! >= 0)
    }

    @Test func theDataNoteNamesSourceAndLicense() throws {
        let note = try String(contentsOf: try #require(Digits.fileURL).deletingLastPathComponent()
            .appendingPathComponent("DATA.md"), encoding: .utf8)
        #expect(note.contains("10.24432/C50P49") && note.contains("Alpaydin") && note.contains("digits.csv"))
    }

    @Test func multiClassLabelsAreCheckedAgainstTheClassCount() {
        let csv = "a,b,label\n1,2,3\n4,5,9\n"
        #expect(throws: Never.self) { _ = try LabeledDataset<Float>(csv: csv, classCount: 10) }
        do {
            _ = try LabeledDataset<Float>(csv: csv, source: "d.csv", classCount: 5)
            Issue.record("label 9 with 5 classes loaded")
        } catch let DataFileError.malformed(_, line, column, reason) {
            #expect(line == 3 && column == 5)
            #expect(reason.contains("0 ..< 5"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // With two classes the letters of the Breast Cancer file still read.
        let binary = try? LabeledDataset<Float>(csv: "x,d\n1,M\n2,B\n")
        #expect(binary?.labels.scalars == [1, 0] && binary?.classCount == 2)
    }
}

@Suite struct MinibatchTests {
    func data(_ n: Int) -> LabeledDataset<Float> {
        LabeledDataset(features: Tensor(shape: [n, 1], scalars: (0..<n).map(Float.init)),
                       labels: Tensor((0..<n).map { Float($0 % 3) }), featureNames: ["i"], labelName: "c",
                       classCount: 3)
    }

    @Test func anEpochVisitsEveryExampleOnceAndKeepsThePartialBatch() {
        var generator = SeededGenerator(seed: 7)
        let batches = data(10).minibatches(ofSize: 4, shuffledBy: &generator)
        #expect(batches.count == 3)
        #expect(batches.map(\.count) == [4, 4, 2])
        let seen = batches.flatMap { $0.features.scalars.map(Int.init) }
        #expect(seen.sorted() == Array(0..<10))
        #expect(seen != Array(0..<10))   // shuffled (this seed does move examples)
        // Labels travel with their features.
        for batch in batches {
            #expect(zip(batch.features.scalars, batch.labels.scalars).allSatisfy { Int($0) % 3 == Int($1) })
        }
    }

    @Test func droppingThePartialBatch() {
        let batches = data(10).minibatches(ofSize: 4, keepingPartialBatch: false)
        #expect(batches.map(\.count) == [4, 4])
        #expect(batches[1].features.scalars == [4, 5, 6, 7])
        #expect(data(8).minibatches(ofSize: 4).count == 2)
        #expect(data(3).minibatches(ofSize: 4, keepingPartialBatch: false).isEmpty)
    }

    @Test func theSameSeedGivesTheSameEpochsAndEachEpochANewOrder() {
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1)
        let first = data(20).minibatches(ofSize: 5, shuffledBy: &a).order
        #expect(first == data(20).minibatches(ofSize: 5, shuffledBy: &b).order)
        #expect(data(20).minibatches(ofSize: 5, shuffledBy: &a).order != first)
    }
}
