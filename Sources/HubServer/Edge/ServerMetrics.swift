internal import CoreMetrics
internal import Metrics
internal import Prometheus

/// The server's metrics, recorded through swift-metrics into a Prometheus registry owned by the
/// server (no global bootstrap: several servers can live in one process, as in tests).
///
/// | name | type | labels |
/// |---|---|---|
/// | `hubmirror_http_requests_total` | counter | `route`, `method`, `status` |
/// | `hubmirror_http_response_body_bytes_total` | counter | `route` |
/// | `hubmirror_http_errors_total` | counter | `route`, `error` |
/// | `hubmirror_http_request_duration_seconds` | histogram | `route` |
/// | `hubmirror_http_requests_in_flight` | gauge | |
/// | `hubmirror_store_size_bytes` | gauge | |
/// | `hubmirror_store_repos` | gauge | |
/// | `hubmirror_store_blobs` | gauge | |
/// | `hubmirror_pull_through_total` | counter | `kind` (`list`, `file`), `result` (`ok`, `error`, `cooldown`) |
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let inFlight: CoreMetrics.Meter
    let storeBytes: CoreMetrics.Gauge
    let storeRepos: CoreMetrics.Gauge
    let storeBlobs: CoreMetrics.Gauge
    /// Opens after the first store scan, so that the first scrape reports real store numbers.
    let storeScanned = Latch()

    init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        factory = f
        inFlight = CoreMetrics.Meter(label: "hubmirror_http_requests_in_flight", factory: f)
        storeBytes = CoreMetrics.Gauge(label: "hubmirror_store_size_bytes", factory: f)
        storeRepos = CoreMetrics.Gauge(label: "hubmirror_store_repos", factory: f)
        storeBlobs = CoreMetrics.Gauge(label: "hubmirror_store_blobs", factory: f)
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(label: "hubmirror_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory).increment()
        CoreMetrics.Timer(label: "hubmirror_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    func bytesSent(route: String, count: Int64) {
        guard count > 0 else { return }
        CoreMetrics.Counter(label: "hubmirror_http_response_body_bytes_total", dimensions: [("route", route)], factory: factory).increment(by: count)
    }

    func error(route: String, code: String) {
        CoreMetrics.Counter(label: "hubmirror_http_errors_total", dimensions: [("route", route), ("error", code)], factory: factory).increment()
    }

    func pullThrough(kind: String, result: String) {
        CoreMetrics.Counter(label: "hubmirror_pull_through_total", dimensions: [("kind", kind), ("result", result)], factory: factory).increment()
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
