import ArgumentParser
import CommandOptions
import Cluster
import CKernels
import Foundation

@main
struct RangeSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rangeseg",
        abstract: "LiDAR range-image semantic segmentation for SemanticKITTI data.",
        subcommands: [SynthCommand.self, ProjectCommand.self, TrainCommand.self, InferCommand.self, ImportCommand.self, ExportCommand.self, EvaluateCommand.self,
                      CompareCommand.self, ConvertCommand.self, LossCommand.self, BenchCommand.self]
    )

    static func main() {
        lineBufferStandardOutput()
        keepLargeBuffersForReuse()
        do {
            var command = try parseAsRoot()
            if let launch = Cluster.launch, launch.size > 1, !(command is TrainCommand) {
                throw ValidationError("only rangeseg train runs on several ranks; start the others without mpirun (or with -np 1)")
            }
            try command.run()
        } catch {
            // Under mpirun every rank parses the same arguments and fails the same way: rank 0 tells.
            if let launch = Cluster.launch, launch.rank != 0 { Foundation.exit(exitCode(for: error).rawValue) }
            exit(withError: error)
        }
    }
}

/// Makes standard output line-buffered even when it is a file or a pipe, so that a log keeps
/// printed lines and progress bars (on standard error) in the order they happened. C's `stdout`
/// is looked up by name because Swift 6 does not let code touch that C global directly.
private func lineBufferStandardOutput() {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "stdout") else { return }
    let stream = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
    setvbuf(stream, nil, _IOLBF, 0)
}

/// Keeps freed buffers of any size in the heap for the next allocation of that size
/// (`rs_keep_large_buffers`). Every scan allocates the same dozen arrays of 0.5-2.6 MB (points,
/// pixel images, the input, the k-NN's images); mapped afresh, each first touch of each page is
/// a page fault. glibc raises its threshold after the first large free, so whether a run paid
/// depended on what it had freed before: `rangeseg bench project` paid on every projection
/// (2.2-2.9 ms per scan, page faults and page clearing 10% of its samples), and projected in
/// 1.0-1.3 ms before its scans were read without a temporary `Data` (AVX512-BF16 EPYC,
/// 2026-12-03).
private func keepLargeBuffersForReuse() {
    rs_keep_large_buffers()
}
