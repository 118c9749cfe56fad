import Foundation

/// A limit on requests in flight shared by several transfer runs (concurrent pull-through fetches of
/// one server), so that together they never open more connections than configured.
public final class ConnectionBudget: @unchecked Sendable {
    public let total: Int
    private let lock = NSLock()
    private var used = 0

    public init(total: Int) { self.total = max(1, total) }

    /// Takes one slot if one is free.
    public func tryAcquire() -> Bool {
        lock.withLock {
            guard used < total else { return false }
            used += 1
            return true
        }
    }

    public func release() { lock.withLock { used = max(0, used - 1) } }

    /// Slots in use now.
    public var inUse: Int { lock.withLock { used } }
}
