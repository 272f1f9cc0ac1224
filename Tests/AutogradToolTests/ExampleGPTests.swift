import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Autograd
@testable import AutogradTool

/// `autograd example gp` on a small subset of the record (fast in a debug build): the shipped data loads, the fit
/// increases the log marginal likelihood, the library's gradient and Hessian agree with finite differences, and the
/// JSON and the SVG are well-formed.
@Suite struct ExampleGPTests {
    @Test func shippedRecordLoads() throws {
        let data = try MaunaLoaCO2.load()
        #expect(data.years.count == 521 && data.ppm.count == 521)
        #expect(data.years.first! == 1958 + 2.5 / 12 && data.ppm.first! == 316.10)
        #expect(data.years.last! == 2001 + 11.5 / 12 && data.ppm.last! == 371.02)
        #expect(zip(data.years, data.years.dropFirst()).allSatisfy { $0 < $1 })
        #expect(data.ppm.allSatisfy { (310...380).contains($0) })
    }

    @Test func malformedLinesAreNamed() {
        #expect(throws: ExampleDataError.self) { try MaunaLoaCO2(csv: "year,month,co2_ppm,weeks\n1958,13,316.1,1\n") }
        #expect(throws: ExampleDataError.self) { try MaunaLoaCO2(csv: "year,month,co2_ppm,weeks\n1958,3,x,1\n") }
    }

    @Test func fitIncreasesTheLikelihoodAndDerivativesAgreeWithFiniteDifferences() throws {
        let r = try GaussianProcessExample(points: 36, steps: 40)
        #expect(r.points == 36 && r.training.count == 36 && r.training.first == 0 && r.training.last == 520)
        #expect(r.fittedLogLikelihood > r.startLogLikelihood + 1)
        #expect(r.finalLogLikelihood >= r.fittedLogLikelihood)
        #expect(r.finiteDifferenceAgreement < 1e-5, "gradient \(r.gradientDifference), Hessian \(r.hessianDifference)")
        // The fit with finite-difference gradients lands at (nearly) the same place.
        #expect(Swift.abs(r.differenceFittedLogLikelihood - r.fittedLogLikelihood) < 1e-3)
        // The posterior mean follows the data: a few ppm at most on the months not fitted.
        #expect(try #require(r.heldOutError) < 5)

        let object = try #require(JSONSerialization.jsonObject(with: Data(JSON.string(r.json).utf8)) as? [String: Any])
        // (JSON text keeps about 16 significant digits.)
        func close(_ key: String, _ value: Double) -> Bool {
            (object[key] as? Double).map { Swift.abs($0 - value) <= 1e-12 * Swift.abs(value) } ?? false
        }
        #expect(close("log_marginal_likelihood", r.finalLogLikelihood))
        #expect(close("finite_difference_agreement", r.finiteDifferenceAgreement))
        let h = try #require(object["hyperparameters"] as? [String: Double])
        #expect(Set(h.keys) == Set(GaussianProcessExample.parameterNames))
        #expect(h.values.allSatisfy { $0 > 0 && $0.isFinite })
    }

    @Test func plotIsWellFormedSVG() throws {
        let r = try GaussianProcessExample(points: 16, steps: 5)
        let svg = r.svg()
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg ") && svg.hasSuffix("</svg>\n"))
        // Well-formed XML, with the data points, the mean and the band.
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.counts["svg"] == 1 && counter.counts["title"] == 1)
        #expect(counter.counts["circle", default: 0] >= 521)
        #expect(counter.counts["polyline"] == 1 && counter.counts["polygon"] == 1)
        #expect(svg.contains(">1960<") && svg.contains(">2000<") && svg.contains("CO₂ (ppm)"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func commandWritesJSONAndPlot() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gp-\(UUID().uuidString).svg").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        var command = try AutogradCommand.parseAsRoot(["example", "gp", "--json", "--points", "12", "--steps", "3",
                                                       "--plot", file])
        try command.run()
        #expect(FileManager.default.fileExists(atPath: file))
    }
}

/// Counts the elements of an XML document by name.
private final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        counts[elementName, default: 0] += 1
    }
}
