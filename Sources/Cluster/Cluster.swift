import Foundation

/// Where this process stands in a training job.
///
/// `mpirun -np N rangeseg train ...` starts N processes; Open MPI tells each its place in
/// environment variables (`OMPI_COMM_WORLD_SIZE`, `OMPI_COMM_WORLD_RANK`). A process started
/// without `mpirun` has none and is a job of one: it never initialises MPI.
public enum Cluster {
    /// This process's place as `mpirun` announced it, read from the environment without
    /// initialising MPI; nil when not started by `mpirun`.
    public static let launch: (rank: Int, size: Int)? = launch(environment: ProcessInfo.processInfo.environment)

    /// The place `environment` announces: Open MPI's `OMPI_COMM_WORLD_RANK` and `OMPI_COMM_WORLD_SIZE`.
    public static func launch(environment: [String: String]) -> (rank: Int, size: Int)? {
        guard let size = environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size >= 1 else { return nil }
        return (environment["OMPI_COMM_WORLD_RANK"].flatMap(Int.init) ?? 0, size)
    }

    /// The job this process belongs to: under `mpirun`, the MPI world (initialised on first
    /// use, once per process); otherwise a single process, without MPI.
    public static let world: any Communicator = launch == nil ? SingleProcess() : MessagePassingWorld()
}
