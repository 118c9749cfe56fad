/// The three kinds of Hub repository, with the URL and cache-folder prefixes each uses.
public enum RepoType: String, Codable, Sendable, CaseIterable, Hashable {
    case model, dataset, space

    /// Plural path segment of the API: `models`, `datasets`, `spaces`.
    public var apiSegment: String { rawValue + "s" }

    /// Prefix of resolve URLs before the repo id: empty for models.
    public var resolvePrefix: String {
        switch self {
        case .model: return ""
        case .dataset: return "datasets/"
        case .space: return "spaces/"
        }
    }

    /// Prefix of the repo folder in the huggingface_hub cache: `models--`, `datasets--`, `spaces--`.
    public var cachePrefix: String { apiSegment + "--" }

    /// Parses `model`, `models`, `dataset`, `datasets`, `space`, `spaces`.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "model", "models": self = .model
        case "dataset", "datasets": self = .dataset
        case "space", "spaces": self = .space
        default: return nil
        }
    }
}
