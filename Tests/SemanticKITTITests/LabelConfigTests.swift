import BundledData
import Formats
import Foundation
import Testing
import TestSupport
@testable import SemanticKITTI

@Suite struct LabelConfigTests {
    @Test func projectConfigParsesWithTheOfficialFacts() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        #expect(config.classCount == 20)
        #expect(config.names[10] == "car")
        #expect(config.learningMap[252] == 1) // moving-car -> car
        #expect(config.learningMapInverse[1] == 10)
        #expect(config.learningIgnore[0] == true && config.learningIgnore[1] == false)
        #expect(config.colors[10] == LabelColor(r: 100, g: 150, b: 245)) // BGR [245, 150, 100] in the file
        #expect(config.split.valid == [8])
        #expect(config.className(learning: 9) == "road")
        let content = config.learningContent()
        #expect(abs(content.reduce(0, +) - 1) < 0.02)
        #expect(content[9] > content[6]) // road is far more common than person
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func projectConfigEqualsTheOfficialFile() throws {
        try SampleData.require()
        let official = try LabelConfig(yaml: SampleData.officialConfig)
        let ours = try LabelConfig(yaml: SampleData.projectConfig)
        #expect(ours == official)
    }

    @Test func theBuiltInConfigIsTheDataFile() throws {
        #expect(BundledData.labelConfig == (try String(contentsOf: SampleData.projectConfig, encoding: .utf8)))
        #expect(try LabelConfig.semanticKITTI == (try LabelConfig(yaml: SampleData.projectConfig)))
    }

    @Test func unknownTopLevelKeysAreErrors() throws {
        let text = try String(contentsOf: SampleData.projectConfig, encoding: .utf8) + "learning_mapp: {}\n"
        let error = #expect(throws: FormatError.self) { try LabelConfig(yamlText: text, file: "mine.yaml") }
        #expect(error?.description == "mine.yaml: learning_mapp: unknown key (did you mean learning_map?)")
    }

    @Test func yamlRoundTrips() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        #expect(try LabelConfig(yamlText: config.yamlText()) == config)
    }

    @Test func namesWithQuotesBackslashesAndControlCharactersRoundTrip() throws {
        var config = try LabelConfig(yaml: SampleData.projectConfig)
        config.names[10] = #"car "small" \ big"#
        config.names[11] = "bi\tcycle\u{1}: #1"
        config.names[13] = "bus \u{7F}"
        let text = config.yamlText()
        #expect(text.contains(#"  10: "car \"small\" \\ big""#))
        #expect(try LabelConfig(yamlText: text) == config)
    }

    @Test func lookupMapsRawToLearningAndBack() throws {
        let lookup = try LabelConfig(yaml: SampleData.projectConfig).lookup()
        let labels = ScanLabels(semantic: [0, 10, 252, 40, 99], instance: [0, 5, 6, 0, 0])
        let ids = try lookup.learningIDs(of: labels)
        #expect(ids == [0, 1, 1, 9, 0])
        #expect(lookup.rawLabels(learning: ids).raw == [0, 10, 10, 40, 0])
    }

    @Test func unknownLabelIdIsAnErrorNamingTheFileAndId() throws {
        let lookup = try LabelConfig(yaml: SampleData.projectConfig).lookup()
        let labels = ScanLabels(semantic: [10, 40, 123, 123])
        let file = URL(fileURLWithPath: "/data/seq/labels/000007.label")
        let error = #expect(throws: FormatError.self) { try lookup.learningIDs(of: labels, file: file) }
        #expect(error?.file == "/data/seq/labels/000007.label")
        #expect(error?.reason == "label id 123 (first at point 2, 2 points in all) is not in the config's learning_map")
    }

    /// The error of the project's label config with `old` replaced by `new` (nil, and a failed
    /// expectation, if it reads).
    func readingError(replacing old: String, with new: String) throws -> FormatError? {
        let text = try String(contentsOf: SampleData.projectConfig, encoding: .utf8)
        let edited = text.replacingOccurrences(of: old, with: new)
        return #expect(throws: FormatError.self) { try LabelConfig(yamlText: edited) }
    }

    @Test func missingKeyIsNamed() throws {
        let error = try readingError(replacing: "learning_map_inv:", with: "learning_map_inverse:")
        #expect(error?.reason.contains("learning_map_inv") == true)
    }

    @Test func badColourIsNamedWithItsKeyPath() throws {
        let error = try readingError(replacing: "  10: [245, 150, 100]", with: "  10: [245, 150]")
        #expect(error?.reason.hasPrefix("color_map.10:") == true)
    }

    @Test func learningIdOutsideTheInverseMapIsAnError() throws {
        let error = try readingError(replacing: "  10: 1\n", with: "  10: 42\n")
        #expect(error?.reason.contains("learning_map.10: learning id 42") == true)
    }

    /// A raw id in learning_map_inv that no label can hold used to trap when the lookup table was built.
    @Test func rawIdOutsideSixteenBitsInTheInverseMapIsAnError() throws {
        let text = try String(contentsOf: SampleData.projectConfig, encoding: .utf8)
        for raw in ["-1", "65536", "99999999999"] {
            let bad = text.replacingOccurrences(of: "learning_map_inv:\n  0: 0\n", with: "learning_map_inv:\n  0: \(raw)\n")
            #expect(bad != text)
            let error = #expect(throws: FormatError.self) { try LabelConfig(yamlText: bad, file: "bad.yaml") }
            #expect(error?.file == "bad.yaml")
            #expect(error?.reason == "learning_map_inv.0: raw id \(raw) is not a semantic id (0-65535)", "\(String(describing: error))")
        }
    }
}
