import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct TextCorpusTests {
    @Test func theNovelLoadsWhole() throws {
        let text = try PrideAndPrejudice.text()
        #expect(text.count == PrideAndPrejudice.characterCount)
        #expect(text.hasPrefix("PRIDE AND PREJUDICE\n\nBy Jane Austen"))
        #expect(text.contains("It is a truth universally acknowledged, that a single man in possession"))
        #expect(CharacterVocabulary(text).count == 75)
    }

    @Test func encodingAndDecodingRoundTrip() {
        let vocabulary = CharacterVocabulary("hello, world\n")
        #expect(vocabulary.characters == ["\n", " ", ",", "d", "e", "h", "l", "o", "r", "w"])
        let codes = vocabulary.encode("world, hello")
        #expect(codes == [9, 7, 8, 6, 3, 2, 1, 5, 4, 6, 6, 7])
        #expect(vocabulary.decode(codes) == "world, hello")
    }

    @Test func theDataNoteNamesSourceAndLicense() throws {
        let note = try String(contentsOf: try #require(PrideAndPrejudice.fileURL).deletingLastPathComponent()
            .appendingPathComponent("DATA.md"), encoding: .utf8)
        #expect(note.contains("Public domain") && note.contains("janeaustenr"))
    }
}
