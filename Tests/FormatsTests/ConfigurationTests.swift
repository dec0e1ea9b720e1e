import BundledData
@testable import Configuration
import Formats
import Foundation
import Testing

/// A configuration type as the project writes them: defaults in the initialisers, strict keys.
private struct Settings: Codable, Equatable {
    var rate: Float = 0.01
    var names: [String] = []
    var inner = Inner()

    struct Inner: Codable, Equatable {
        var epsilon: Float = 1e-5
        var steps = 3
        enum CodingKeys: String, CodingKey, CaseIterable { case epsilon, steps }
        init() {}
        init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            epsilon = try c.value(.epsilon, or: Inner().epsilon)
            steps = try c.value(.steps, or: Inner().steps)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case rate, names, inner }
    init() {}
    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = Settings()
        rate = try c.value(.rate, or: d.rate)
        names = try c.value(.names, or: d.names)
        inner = try c.value(.inner, or: d.inner)
    }
}

@Suite struct ConfigurationTests {
    @Test func missingKeysKeepDefaultsAndUnknownKeysNameTheNearest() throws {
        #expect(try YAMLFile.decode(Settings.self, yaml: "", file: "f") == Settings())
        #expect(try YAMLFile.decode(Settings.self, yaml: "inner:\n  steps: 5\n", file: "f").inner.steps == 5)
        let typo = #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: "inner:\n  setps: 5\n", file: "f.yaml") }
        #expect(typo?.description == "f.yaml: inner.setps: unknown key (did you mean steps?)")
        let far = #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: "colour: red\n", file: "f.yaml") }
        #expect(far?.description == "f.yaml: colour: unknown key (valid keys: inner, names, rate)")
        let type = #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: "rate: fast\n", file: "f.yaml") }
        #expect(type?.description == "f.yaml: rate: expected a number")
        #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: "rate: [1\n", file: "f.yaml") }
    }

    @Test func nearestKeysAllowAFewEdits() {
        #expect(nearestKey(to: "learning_rat", in: ["learning_rate", "momentum"]) == "learning_rate")
        #expect(nearestKey(to: "widht", in: ["width", "height"]) == "width")   // a swap is one edit
        #expect(nearestKey(to: "tua", in: ["tau", "kappa"]) == "tau")
        #expect(nearestKey(to: "colour", in: ["rate", "names"]) == nil)
    }

    @Test func numbersAreWrittenAsPeopleWriteThem() throws {
        var settings = Settings()
        settings.rate = 0.98
        settings.names = ["00", "08", "1e5"]
        let text = try YAMLFile.encode(settings)
        #expect(text == "rate: 0.98\nnames: ['00', '08', '1e5']\ninner:\n  epsilon: 1.0e-05\n  steps: 3\n")
        #expect(try YAMLFile.decode(Settings.self, yaml: text, file: "f") == settings)
        #expect(["3", "-25", "0.1", "1.0e-05", "1.0e+20"] == [Float(3), -25, 0.1, 1e-5, 1e20].map(YAMLFile.shortest))
    }

    /// Yams reads unquoted `1:30` as the base-60 integer 90 and multiplies without overflow
    /// checks, so a long one stopped the process: now an error naming the file and the key.
    @Test func baseSixtyNumbersAreAnErrorNamingTheKey() throws {
        let text = "inner:\n  steps: 1:0:0:0:0:0:0:0:0:0:0:0\n"
        let error = #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: text, file: "s.yaml") }
        #expect(error?.file == "s.yaml")
        #expect(error?.reason.hasPrefix("inner.steps: '1:0:0:0:0:0:0:0:0:0:0:0' is a base-60 number") == true, "\(String(describing: error))")
        #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: "rate: -99999999999999999:0\n", file: "s.yaml") }
        // Quoted, the same text is text; times and ratios in strings are left alone.
        let quoted = try YAMLFile.decode(Settings.self, yaml: "names: ['1:30', \"12:00\"]\n", file: "s.yaml")
        #expect(quoted.names == ["1:30", "12:00"])
    }

    @Test func readErrorsNameTheFile() {
        let url = URL(fileURLWithPath: "/nonexistent/train.yaml")
        let error = #expect(throws: FormatError.self) { try YAMLFile.read(url) }
        #expect(error?.description == "/nonexistent/train.yaml: no such file")
    }

    // Yams composes and decodes recursively: a few thousand levels overflow the stack.
    @Test(arguments: [
        "rate: " + String(repeating: "[", count: 20_000),                                  // flow
        "inner: " + String(repeating: "{a: ", count: 20_000),
        String(repeating: "- ", count: 20_000) + "x",                                       // compact block
        (0..<70).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n"), // indentation
    ])
    func nestingTooDeepForTheParserIsAnError(text: String) throws {
        let error = #expect(throws: FormatError.self) { try YAMLFile.decode(Settings.self, yaml: text, file: "deep.yaml") }
        #expect(error?.description == "deep.yaml: nested more than \(YAMLFile.maximumNesting) levels deep; configuration files need a few")
    }

    @Test func theNestingBoundCountsWhatNestsAndNotWhatIsQuotedOrCommented() {
        #expect(YAMLFile.nestingBound(of: "a: 1\nb:\n  c: [1, [2, 3]]\n") == 5)  // two block levels, the `: ` after c, two brackets
        #expect(YAMLFile.nestingBound(of: "a: \"[[[[[[\"\nb: '{{{{'  # [[[[[[\n") == 2)
        #expect(YAMLFile.nestingBound(of: "values: [-1, -2, -3, -4, -5, -6, -7, -8]\nname: moving-car\n") == 3)
        #expect(YAMLFile.nestingBound(of: "- - - x\n") == 4)
    }

    /// The files the project ships and the official label config nest far below the limit.
    @Test func theShippedConfigurationsAreWellWithinTheNestingLimit() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let texts = [BundledData.labelConfig, BundledData.trainingConfig, BundledData.architecture,
                     try String(contentsOf: root.appendingPathComponent("tools/study.yaml"), encoding: .utf8)]
        for text in texts { #expect(YAMLFile.nestingBound(of: text) <= 12) }
    }
}
