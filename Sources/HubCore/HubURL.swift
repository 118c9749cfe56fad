/// URLs of the Hub's file routes, encoded as the official client encodes them (hub-protocol.md §1).
public enum HubURL {
    /// `{endpoint}/{prefix}{repo}/resolve/{revision}/{path}`: the revision as one segment, the path with `/` kept.
    public static func resolve(endpoint: String, repo: RepoRef, revision: String, path: String) -> String {
        "\(endpoint)/\(repo.type.resolvePrefix)\(repo.id)/resolve/\(PercentEncoding.revisionSegment(revision))/\(PercentEncoding.filePath(path))"
    }
}
