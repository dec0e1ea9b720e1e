import Formats
import SemanticKITTI

extension RangeImage {
    /// The arrays of the reference implementation, ready for `np.load`:
    /// `proj_range`, `proj_xyz`, `proj_remission`, `proj_idx`, `proj_mask`, `proj_x`, `proj_y`,
    /// `unproj_range`, and with labels `proj_sem_label` and `proj_inst_label`.
    public func archive(labels: ScanLabels? = nil) -> NumPyArchive {
        var archive = NumPyArchive()
        let hw = [height, width]
        archive["proj_range"] = NumPyArray(range, shape: hw)
        archive["proj_xyz"] = NumPyArray(xyz, shape: hw + [3])
        archive["proj_remission"] = NumPyArray(remission, shape: hw)
        archive["proj_idx"] = NumPyArray(index, shape: hw)
        archive["proj_mask"] = NumPyArray(mask, shape: hw)
        archive["proj_x"] = NumPyArray(pointColumn, shape: [pointCount])
        archive["proj_y"] = NumPyArray(pointRow, shape: [pointCount])
        archive["unproj_range"] = NumPyArray(pointRange, shape: [pointCount])
        if let labels {
            archive["proj_sem_label"] = NumPyArray(semanticImage(labels), shape: hw)
            archive["proj_inst_label"] = NumPyArray(instanceImage(labels), shape: hw)
        }
        return archive
    }
}
