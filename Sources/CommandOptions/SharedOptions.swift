import ArgumentParser
import Engine
import Formats
import Foundation
import Inference
import Losses
import PointClouds
import Projection
import RangeSegKit
import SemanticKITTI

/// The range-image geometry flags of the commands that project scans given as arguments
/// (`project`, `evaluate`, `bench project`): the `sensor:` keys `--height`, `--width`,
/// `--fov-up`, `--fov-down`, with their help and defaults from `ProjectionConfig.settings`.
/// (Commands without positional arguments take every sensor key through `SettingFlags`.)
package struct ProjectionOptions: ParsableArguments {
    package init() {}

    private static func help(_ key: String) -> ArgumentHelp {
        let setting = ProjectionConfig.settings.first { $0.key == key }!
        return ArgumentHelp("\(setting.help) (default \(setting.text(in: ProjectionConfig()))).", valueName: setting.valueName)
    }

    @Option(help: help("height")) package var height: Int?
    @Option(help: help("width")) package var width: Int?
    @Option(name: .customLong("fov-up"), help: help("fov_up")) package var fovUp: Float?
    @Option(name: .customLong("fov-down"), help: help("fov_down")) package var fovDown: Float?

    /// The defaults with the flags applied.
    package var config: ProjectionConfig {
        var c = ProjectionConfig()
        if let height { c.height = height }
        if let width { c.width = width }
        if let fovUp { c.fovUp = fovUp }
        if let fovDown { c.fovDown = fovDown }
        return c
    }

    package func validate() throws {
        if let problem = config.problem() { throw ValidationError(problem) }
    }
}

/// The label configuration flag: any file in the schema of the official `semantic-kitti.yaml`.
package struct LabelConfigOption: ParsableArguments {
    package init() {}

    @Option(name: .customLong("label-config"),
            help: ArgumentHelp("Label configuration in the schema of SemanticKITTI's semantic-kitti.yaml (default: the built-in data/semantic-kitti.yaml).",
                               valueName: "yaml"),
            transform: { URL(fileURLWithPath: $0) })
    package var labelConfig: URL?

    /// The first release's spelling, kept working but not shown.
    @Option(name: .customLong("config"), help: .hidden, transform: { URL(fileURLWithPath: $0) })
    package var legacyConfig: URL?

    package var url: URL? { labelConfig ?? legacyConfig }

    package func validate() throws {
        if labelConfig != nil, legacyConfig != nil { throw ValidationError("give --label-config once (--config is its old name)") }
    }

    /// The flag's file, or the built-in SemanticKITTI config.
    package func load() throws -> LabelConfig {
        try url.map { try LabelConfig(yaml: $0) } ?? LabelConfig.semanticKITTI
    }
}

/// Comma-separated names, e.g. sequences `00,01`.
package struct NameList: ExpressibleByArgument, CustomStringConvertible, Sendable {
    package var names: [String]

    package var description: String { names.joined(separator: ",") }
    package var defaultValueDescription: String { description }

    package init?(argument: String) {
        names = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if names.isEmpty || names.contains(where: \.isEmpty) { return nil }
    }
}

extension Cleanup: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension PointCloudFormat: ExpressibleByArgument {}
extension PointCloudEncoding: ExpressibleByArgument {}
extension InvalidPoints: ExpressibleByArgument {}
extension DataRemedy: ExpressibleByArgument {}

/// Parses a loss flag (`subclassified`, `lovasz+wce`, `subclassified:0.2+ce:0.8`), failing with
/// the loss library's message.
package func parseLoss(_ text: String) throws -> LossSpec { try LossSpec(parsing: text) }

/// Says in one line on standard error when bf16 was asked for on a CPU without native bf16.
package func printPrecisionNotice(_ precision: Precision) {
    guard precision == .bf16, let notice = BF16Support.thisCPU.notice else { return }
    FileHandle.standardError.write(Data((notice + "\n").utf8))
}
