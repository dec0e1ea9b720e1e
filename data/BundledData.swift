/// The project's data files, compiled into every binary that links them, so that an installed
/// `rangeseg` (or a program using the RangeSeg library) finds them from any directory.
///
/// The files themselves stay readable and editable in `data/`; SwiftPM embeds them at build time.
public enum BundledData {
    /// `data/semantic-kitti.yaml`: SemanticKITTI's label configuration (the official schema).
    public static var labelConfig: String { String(decoding: PackageResources.semantic_kitti_yaml, as: UTF8.self) }
    /// `data/train.yaml`: the default training configuration, every key at its default.
    public static var trainingConfig: String { String(decoding: PackageResources.train_yaml, as: UTF8.self) }
    /// `data/networks/rangenet-lite.yaml`: the default network's architecture.
    public static var architecture: String { networks["rangenet-lite"]! }
    /// `data/networks/NAME.yaml` by NAME: the architecture files of the networks one can name
    /// (`network: darknet53`, `--network darknet53`).
    public static var networks: [String: String] {
        [
            "rangenet-lite": PackageResources.rangenet_lite_yaml,
            "darknet21": PackageResources.darknet21_yaml,
            "darknet53": PackageResources.darknet53_yaml,
            "salsanext": PackageResources.salsanext_yaml,
        ].mapValues { String(decoding: $0, as: UTF8.self) }
    }
}
