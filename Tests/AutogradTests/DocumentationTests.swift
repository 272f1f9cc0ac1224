import Foundation
import Testing
@testable import Autograd

/// Keeps the documentation from rotting:
/// - every Swift sample (in the DocC articles, in `///` comments, in the README) is part of a snippet under
///   `Snippets/`, which `swift build` and `swift test` compile, and every snippet runs here and checks its results;
/// - every article an error message cites exists, under exactly that title;
/// - error messages and the `explain` output quoted in articles are what the library prints today.
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The DocC catalogs: the core's and AutogradNN's.
    static let catalogs = ["Sources/Autograd/Autograd.docc", "Sources/AutogradNN/AutogradNN.docc"]
        .map { root.appendingPathComponent($0) }

    static func read(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    static func files(under directory: URL, ending suffix: String) -> [URL] {
        let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (e?.allObjects as? [URL] ?? []).filter { $0.path.hasSuffix(suffix) }.sorted { $0.path < $1.path }
    }

    /// Articles: file name (without .md) and text.
    static let articles: [(name: String, text: String)] = catalogs.flatMap { files(under: $0, ending: ".md") }.map {
        ($0.deletingPathExtension().lastPathComponent, read($0))
    }
    static var articleTitles: [String] {
        articles.compactMap { a in
            a.text.split(separator: "\n").first.flatMap { $0.hasPrefix("# ") && !$0.contains("``") ? String($0.dropFirst(2)) : nil }
        }
    }
    static let snippets: [(name: String, text: String)] = files(under: root.appendingPathComponent("Snippets"),
                                                                 ending: ".swift").map {
        ($0.deletingPathExtension().lastPathComponent, read($0))
    }

    /// Fenced code blocks of `text`: the info string ("swift", or "" for none) and the lines between the fences.
    static func codeBlocks(_ text: String) -> [(language: String, lines: [String])] {
        var blocks: [(String, [String])] = []
        var current: (String, [String])?
        for line in text.components(separatedBy: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("```") {
                if let c = current { blocks.append(c); current = nil } else { current = (String(t.dropFirst(3)), []) }
            } else if current != nil {
                current!.1.append(line)
            }
        }
        return blocks
    }

    /// The text of the `///` comments of a Swift file, one comment block per element, prefixes removed.
    static func docComments(_ source: String) -> [String] {
        var comments: [String] = []
        var current: [String] = []
        for line in source.components(separatedBy: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("///") {
                current.append(String(t.dropFirst(3).drop { $0 == " " }.isEmpty ? "" : t.dropFirst(t.hasPrefix("/// ") ? 4 : 3)))
            } else if !current.isEmpty {
                comments.append(current.joined(separator: "\n"))
                current = []
            }
        }
        return comments
    }

    static func significantLines(_ lines: [String]) -> [String] {
        lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The snippet (if any) whose lines contain `sample`'s lines in order.
    static func snippet(containing sample: [String]) -> String? {
        let wanted = significantLines(sample)
        for s in snippets {
            var i = 0
            for line in significantLines(s.text.components(separatedBy: "\n")) where i < wanted.count && line == wanted[i] {
                i += 1
            }
            if i == wanted.count { return s.name }
        }
        return nil
    }

    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    // MARK: - Samples

    @Test func articlesShowSwiftOnlyThroughSnippetsThatExist() {
        #expect(Self.articles.count >= 15, "articles found: \(Self.articles.map(\.name))")
        let pattern = /@Snippet\(path: "Autograd\/Snippets\/([A-Za-z]+)"(?:, slice: "([A-Za-z]+)")?\)/
        for a in Self.articles {
            #expect(!Self.codeBlocks(a.text).contains { $0.language.hasPrefix("swift") },
                    "\(a.name).md has a ```swift block: make it a snippet and use @Snippet")
            for match in a.text.matches(of: pattern) {
                let name = String(match.1)
                guard let s = Self.snippets.first(where: { $0.name == name }) else {
                    Issue.record("\(a.name).md cites the snippet \(name), which does not exist"); continue
                }
                if let slice = match.2 {
                    #expect(s.text.contains("// snippet.\(slice)\n"), "\(name) has no slice \(slice) (cited by \(a.name).md)")
                }
            }
        }
    }

    /// The ```swift blocks of the `///` comments in Sources/ and of the README.
    static var swiftSamples: [(origin: String, lines: [String])] {
        var samples: [(origin: String, lines: [String])] = []
        for file in files(under: root.appendingPathComponent("Sources"), ending: ".swift") {
            for comment in docComments(read(file)) {
                for block in codeBlocks(comment) where block.language == "swift" {
                    samples.append((file.lastPathComponent, block.lines))
                }
            }
        }
        for block in codeBlocks(read(root.appendingPathComponent("README.md"))) where block.language == "swift" {
            samples.append(("README.md", block.lines))
        }
        return samples
    }

    @Test func swiftSamplesInDocCommentsAndTheReadmeAreCompiledSnippets() {
        let samples = Self.swiftSamples
        #expect(samples.count >= 10)
        for sample in samples {
            #expect(Self.snippet(containing: sample.lines) != nil,
                    "a Swift sample in \(sample.origin) is in no snippet under Snippets/ (so nothing compiles it):\n\(sample.lines.joined(separator: "\n"))")
        }
    }

    @Test func everySnippetIsShownSomewhere() {
        let articleText = Self.articles.map(\.text).joined()
        let holders = Set(Self.swiftSamples.compactMap { Self.snippet(containing: $0.lines) })
        for s in Self.snippets {
            #expect(articleText.contains("Snippets/\(s.name)\"") || holders.contains(s.name),
                    "Snippets/\(s.name).swift is shown by no article, no doc comment and not the README")
        }
    }

    /// `swift test` builds the snippets with everything else (next to the test executable); each must run to the
    /// end: they check their own results with `precondition`.
    @Test(arguments: snippets.map(\.name)) func snippetRuns(_ name: String) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let executable = directory.appendingPathComponent(name)
        try #require(FileManager.default.isExecutableFile(atPath: executable.path),
                     "no executable \(executable.path): swift build and swift test build every snippet")
        let process = Process()
        process.executableURL = executable
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "snippet \(name) failed:\n\(message.prefix(2000))")
    }

    /// The project speaks for itself: no file mentions numbered issues, the sessions of its development or paths
    /// outside the repository (a clone has none of them).
    @Test func filesMentionNothingOutsideTheRepository() {
        let pattern = /(?i)\bissues? #?[0-9]|\bsession\b|\bsessions\b|shared\/bench|\/work\/|\.\.\/\.peers/
        var checked = 0
        for folder in ["Sources", "Snippets", "scripts", "Benchmarks", ".ci"] {
            for file in Self.files(under: Self.root.appendingPathComponent(folder), ending: "") {
                let text = Self.read(file)
                checked += 1
                for line in text.split(separator: "\n") where line.contains(pattern) {
                    Issue.record("\(file.lastPathComponent) mentions something outside the repository: \(line)")
                }
            }
        }
        for line in Self.read(Self.root.appendingPathComponent("README.md")).split(separator: "\n")
        where line.contains(pattern) {
            Issue.record("README.md mentions something outside the repository: \(line)")
        }
        #expect(checked > 50)
    }

    @Test func theNetworkModuleHasItsCatalog() {
        let names = Set(Self.articles.map(\.name))
        for article in ["AutogradNN", "TrainingALoop", "BuildingModels", "LossesAndOptimizers", "WorkingWithData", "ParameterFiles"] {
            #expect(names.contains(article), "no article \(article).md in AutogradNN.docc")
        }
    }

    // MARK: - Articles named by errors

    /// Every "See the article \"…\"" in the sources (errors and operation failures) names an existing article.
    @Test func citedArticlesExist() {
        let titles = Set(Self.articleTitles)
        var cited: Set<String> = []
        for file in Self.files(under: Self.root.appendingPathComponent("Sources"), ending: ".swift") {
            // Join string literals split across lines: "... \"What a " + "derivative ..." becomes one literal.
            let joined = Self.read(file).replacing(/"\s*\n\s*\+\s*"/, with: "")
            for match in joined.matches(of: /[Ss]ee the article \\"([^"\\]+)\\"/) { cited.insert(String(match.1)) }
        }
        #expect(cited.count >= 6, "cited: \(cited)")
        for title in cited { #expect(titles.contains(title), "an error cites \"\(title)\", but no article has that title") }
    }

    /// Every derivative-call error names the article that explains it.
    @Test func everyErrorNamesAnArticle() {
        let errors: [AutogradError] = [
            .cotangentShapeMismatch(output: 0, cotangentShape: [1, 2], outputShape: [100], inputShapes: [[1, 2]], call: "c"),
            .cotangentShapeMismatch(output: 0, cotangentShape: [3], outputShape: [100], inputShapes: [[1, 2]], call: "c"),
            .tangentShapeMismatch(input: 0, tangentShape: [100], inputShape: [1, 2], outputShapes: [[100]], call: "c"),
            .missingCotangent(output: 0, outputShape: [100], call: "c"),
            .unusedInput(input: 0, shape: [2]),
            .graphReleased(operation: "exp"),
            .inputNotRecorded(input: 0, shape: [2]),
            .outputNotRecorded(output: 0, shape: [2]),
            .mixedScalarTypes(what: "w", expected: .float32, actual: .float64),
            .countMismatch(what: "w", expected: 1, actual: 2),
            .anomaly(operation: "log", pass: "p", value: .nan, index: [0], shape: [1], location: nil),
            .batchShapeMismatch(what: "w", expected: [2], actual: [3]),
            .outputShapeMismatch(call: "c", expected: "e", actual: [2, 2]),
            .vmapMisuse(reason: "r"),
        ]
        let titles = Set(Self.articleTitles)
        for e in errors {
            let match = e.description.firstMatch(of: /See the article "([^"]+)"\./)
            #expect(match.map { titles.contains(String($0.1)) } == true, "\(e) names no existing article")
        }
    }

    // MARK: - Quoted output is current

    /// Error messages quoted in articles are exactly what the errors say now (line breaks aside).
    @Test func quotedErrorMessagesAreCurrent() {
        let messages = [
            AutogradError.cotangentShapeMismatch(output: 0, cotangentShape: [1, 2], outputShape: [100],
                                                 inputShapes: [[1, 2]], call: "gradient(of:wrt:cotangent:)"),
            .missingCotangent(output: 0, outputShape: [100], call: "gradient(of:wrt:cotangent:)"),
        ].map { Self.normalized($0.description) }
        var quoted = 0
        for a in Self.articles {
            for block in Self.codeBlocks(a.text) where block.language.isEmpty {
                let text = Self.normalized(block.lines.joined(separator: " "))
                guard text.contains("See the article") else { continue }
                quoted += 1
                #expect(messages.contains(text), "\(a.name).md quotes an error message the library no longer prints:\n\(text)")
            }
        }
        #expect(quoted >= 2)
    }

    /// The explanation quoted in "Explaining a call" is what `explain(.vjp, ...)` prints for the motivating problem.
    @Test func quotedExplanationIsCurrent() throws {
        let p = ExplainTests.Problem()
        let printed = Self.normalized(try explain(.vjp, of: p.losses, at: p.w, inputName: "w", outputName: "losses")
            .description)
        let article = try #require(Self.articles.first { $0.name == "ExplainingACall" })
        let block = try #require(Self.codeBlocks(article.text).first { $0.lines.first?.hasPrefix("vjp(of:at:") == true })
        #expect(Self.normalized(block.lines.joined(separator: " ")) == printed)
    }
}
