import Autograd
import Foundation

/// Jane Austen's *Pride and Prejudice* (1813, public domain), shipped with this module for character-level
/// language models: 684 768 ASCII characters, 75 distinct. Source and how the file was made:
/// `Resources/DATA.md`.
///
/// ```swift
/// let text = try PrideAndPrejudice.text()
/// let vocabulary = CharacterVocabulary(text)          // 75 characters
/// let codes = vocabulary.encode(text)                 // [Int], one per character
/// ```
public enum PrideAndPrejudice {
    /// 684 768.
    public static let characterCount = 684_768

    /// Where the text file is, inside this module's resource bundle.
    public static var fileURL: URL? {
        Bundle.module.url(forResource: "pride_and_prejudice", withExtension: "txt", subdirectory: "Resources")
    }

    /// The whole novel as one string (lines joined by `\n`).
    /// - Throws: ``DataFileError/unreadable(path:reason:)`` if the file is missing or not UTF-8.
    public static func text() throws -> String {
        guard let url = fileURL, let data = try? Data(contentsOf: url) else {
            throw DataFileError.unreadable(path: "Resources/pride_and_prejudice.txt",
                                           reason: "the file is missing from the AutogradNN resource bundle")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataFileError.unreadable(path: "Resources/pride_and_prejudice.txt", reason: "the file is not UTF-8")
        }
        return text
    }
}

/// The distinct characters of a text, each given a code 0 ..< count in the order of their Unicode scalars: the
/// vocabulary of a character-level language model.
public struct CharacterVocabulary: Sendable, Equatable {
    /// The characters, code k at index k.
    public let characters: [Character]
    private let codes: [Character: Int]

    /// The vocabulary of every character in `text`, sorted. O(length of text).
    public init(_ text: String) {
        characters = Set(text).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        codes = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, $0) })
    }

    /// The number of characters, the size of a model's output layer.
    public var count: Int { characters.count }

    /// The code of each character of `text`. Stops at a character not in the vocabulary, naming it and its position.
    public func encode(_ text: String, file: StaticString = #fileID, line: UInt = #line) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.count)
        for (position, c) in text.enumerated() {
            guard let code = codes[c] else {
                operationFailure("CharacterVocabulary.encode(_:)", "character \(position), \(String(reflecting: c)), "
                    + "is not in the vocabulary of \(count) characters; build the vocabulary from a text that holds it",
                    at: CallSite(file: file, line: line))
            }
            result.append(code)
        }
        return result
    }

    /// The text of a sequence of codes. Stops at a code outside 0 ..< count.
    public func decode(_ codes: [Int], file: StaticString = #fileID, line: UInt = #line) -> String {
        var result = ""
        for (position, code) in codes.enumerated() {
            guard code >= 0 && code < count else {
                operationFailure("CharacterVocabulary.decode(_:)", "code \(position) is \(code); codes lie in 0 ..< "
                    + "\(count)", at: CallSite(file: file, line: line))
            }
            result.append(characters[code])
        }
        return result
    }

    /// Two vocabularies are equal when they hold the same characters in the same order.
    public static func == (a: CharacterVocabulary, b: CharacterVocabulary) -> Bool { a.characters == b.characters }
}
