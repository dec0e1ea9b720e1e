import Foundation
import Testing
import TestSupport

@Suite struct ChildProcessTests {
    /// A child that writes 1 MiB to standard error before 1 MiB to standard output: a runner
    /// that read standard output to its end first waited for ever (the child blocked on the full
    /// standard error pipe); both streams now arrive whole.
    @Test func bothStreamsAreReadWholeWhateverTheOrder() throws {
        let result = try ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), [
            "-c", #"head -c 1048576 /dev/zero | tr "\0" x >&2; head -c 1048576 /dev/zero | tr "\0" y; exit 3"#,
        ])
        #expect(result.status == 3)
        #expect(result.stderr.utf8.count == 1 << 20 && result.stderr.utf8.allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(result.stdout.utf8.count == 1 << 20 && result.stdout.utf8.allSatisfy { $0 == UInt8(ascii: "y") })
    }

    @Test func theEnvironmentAndDirectoryAreTheChilds() throws {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let result = try ChildProcess.run(program: "sh", ["-c", "printf '%s %s' \"$PWD\" \"$CHILD_PROCESS_TEST\""], in: directory,
                                          environment: ["CHILD_PROCESS_TEST": "set", "PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(directory.path) set")
    }
}
