import Foundation
import Testing
@testable import Cluster

/// The single-process job and how a process learns its place. Jobs of several ranks are run
/// through `mpirun` by CommandTests (DistributedTrainingTests).
struct ClusterTests {
    @Test func withoutMPIRunAProcessIsAJobOfOne() {
        #expect(Cluster.launch(environment: [:]) == nil)
        #expect(Cluster.launch(environment: ["PATH": "/usr/bin", "OMPI_COMM_WORLD_RANK": "1"]) == nil)
        let launched = Cluster.launch(environment: ["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "3"])
        #expect(launched?.rank == 3 && launched?.size == 4)
        // The test runner itself was not started by mpirun: the world is one process, MPI untouched.
        if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil {
            #expect(Cluster.world is SingleProcess)
        }
    }

    @Test func aJobOfOneLeavesEverythingAsItIs() {
        let one = SingleProcess()
        #expect(one.rank == 0 && one.size == 1 && one.isLeader)
        var floats: [Float] = [1, -2.5, 3]
        one.allReduceSum(&floats)
        #expect(floats == [1, -2.5, 3])
        var counts: [Int64] = [7, 0, 1 << 40]
        one.allReduceSum(&counts)
        #expect(counts == [7, 0, 1 << 40])
        one.broadcast(&floats, from: 0)
        #expect(floats == [1, -2.5, 3])
        #expect(one.broadcast(Data([1, 2, 3]), from: 0) == Data([1, 2, 3]))
        one.barrier()
        one.finish()
    }
}
