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
        // Freed buffers stay in the heap for the next allocation of their size. Every scan
        // allocates the same dozen arrays of 0.5-2.6 MB; glibc otherwise maps each afresh, and
        // each first touch of each page is a page fault, unless an earlier large free happened
        // to raise its threshold: `rangeseg bench project` paid on every projection (2.2-2.9 ms
        // per scan, against 1.2-1.3 ms with this; AVX512-BF16 EPYC, 2026-12-03).
        rs_keep_large_buffers()
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
