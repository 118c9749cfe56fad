/// Adds up bytes per source (`upstream …`, `peer …`) across syncs, for the run reports of `mirror` and `replicate`.
enum ProvenanceTotals {
    /// Adds `bytes` into `total`; `total` stays nil until some source sent something.
    static func add(_ bytes: [String: Int64]?, to total: inout [String: Int64]?) {
        for (source, n) in bytes ?? [:] where n > 0 { total = (total ?? [:]).merging([source: n], uniquingKeysWith: +) }
    }
}
