import HubCore
import HubStore

/// One file of a run, on the engine thread: its state machine, its staged content, its hasher and
/// the requests in flight for it.
final class FileRun {
    let job: FileJob
    var machine: FileTransfer
    let staged: any StagedContent
    var hasher: FrontierHasher?
    /// Bumped for every hasher started, so that what an earlier one posted late is ignored.
    var hasherGeneration = 0
    /// The stored prefix the hasher last reported: the window holds the bytes from here on.
    var storedTo: Int64 = 0
    /// Requests paused until the window moves on.
    var waitingForWindow: [RequestRun] = []
    var requests: [RequestID: RequestRun] = [:]
    /// `job.sources[i].id`, for connection limits and byte counts.
    let sourceIDs: [String]
    /// The chunk digests the hasher computed, for the manifest.
    var chunks: ChunkDigests?
    /// Set once the file is published or failed.
    var finished = false

    init(job: FileJob, machine: FileTransfer, staged: any StagedContent) {
        self.job = job
        self.machine = machine
        self.staged = staged
        sourceIDs = machine.config.sources.map(\.id)
    }

    var isActive: Bool { !finished && machine.phase == .downloading }

    /// The chunk digests the job's bytes must match, when it carries a usable list.
    var expectedChunks: ChunkDigests? { job.entry.chunks.flatMap { $0.fits(size: job.entry.size) ? $0 : nil } }
}
