import Foundation
public import HubCore

extension FakeHub {
    /// What `loadDemo()` created: the repos and commit shas a demo or test refers to.
    public struct Demo: Sendable {
        public static let model = FakeHub.model("acme/tiny-model")
        public static let dataset = FakeHub.dataset("acme/tiny-data")
        public static let space = FakeHub.space("acme/tiny-space")
        public static let gatedModel = FakeHub.model("acme/gated-model")
        public static let token = "hf_demo_token"
        public static let oddFileName = "odd name & #1?.txt"

        /// `acme/tiny-model`: commit 1 (tag `v1.0`), commit 2 (`main`), the `refs/pr/1` commit and `feature/x`.
        public let commit1: String
        public let commit2: String
        public let prCommit: String
        public let featureCommit: String
        public let datasetCommit: String
        public let spaceCommit: String
        public let gatedCommit: String

        /// One line per ref, for printing.
        public var summary: String {
            """
            \(Demo.model) commit1 (tag v1.0) \(commit1)
            \(Demo.model) commit2 (main)     \(commit2)
            \(Demo.model) refs/pr/1          \(prCommit)
            \(Demo.model) feature/x          \(featureCommit)
            \(Demo.dataset) main \(datasetCommit)
            \(Demo.space) main \(spaceCommit)
            \(Demo.gatedModel) main \(gatedCommit) (gated; token \(Demo.token))
            """
        }
    }

    /// Fills the hub with the demo repos (see `Demo`) and adds the demo token.
    @discardableResult
    public func loadDemo() throws -> Demo {
        let model = Demo.model
        let tokenizer = """
            {"version":"1.0","model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1,"world":2}}}

            """
        let commit1 = try commit(model, files: [
            "README.md": "---\nlicense: mit\n---\n# tiny-model\n\nA demo model served by hubmirror-fakehub.\n",
            "config.json": "{\"model_type\":\"tiny\",\"hidden_size\":64,\"num_layers\":2}\n",
            "model.safetensors": .pattern(seed: 1, size: 3 * 1024 * 1024 + 17, lfs: true),
            "tokenizer.json": .text(tokenizer),
            "old-notes.txt": "notes that commit 2 deletes\n",
            "sub/dir/weights.bin": .pattern(seed: 2, size: 512 * 1024 + 3, lfs: true),
            Demo.oddFileName: "a file whose name needs percent-encoding\n",
        ], message: "initial commit")
        try tag(model, "v1.0", commit1)
        let commit2 = try commit(model, files: [
            "README.md": "---\nlicense: mit\n---\n# tiny-model\n\nA demo model served by hubmirror-fakehub (v2).\n",
            "tokenizer/tokenizer.json": .text(tokenizer),
            "vocab.txt": "[UNK]\nhello\nworld\n",
        ], deleting: ["old-notes.txt", "tokenizer.json"], message: "update README, move tokenizer, add vocab")
        let prCommit = try commit(model, parent: commit2, files: ["pr-file.txt": "added in a pull request\n"], message: "PR #1")
        try setRef(model, "refs/pr/1", prCommit)
        let featureCommit = try commit(model, parent: commit2, files: [
            "config.json": "{\"model_type\":\"tiny\",\"hidden_size\":128,\"num_layers\":2}\n",
        ], message: "feature: wider")
        try setBranch(model, "feature/x", featureCommit)

        let datasetCommit = try commit(Demo.dataset, files: [
            "README.md": "# tiny-data\n",
            "data/train.csv": "id,text,label\n1,hello,0\n2,world,1\n3,foo,0\n",
            "data/test.csv": "id,text,label\n4,bar,1\n",
            "data/extra.jsonl": "{\"id\":5,\"text\":\"baz\"}\n{\"id\":6,\"text\":\"qux\"}\n",
        ], message: "add data")
        let spaceCommit = try commit(Demo.space, files: [
            "app.py": "import gradio as gr\n\ngr.Interface(lambda x: x, 'text', 'text').launch()\n",
            "README.md": "---\nsdk: gradio\n---\n# tiny-space\n",
        ], message: "add app")
        createRepo(Demo.gatedModel, gated: true)
        let gatedCommit = try commit(Demo.gatedModel, files: [
            "README.md": "# gated-model\n",
            "model.bin": .pattern(seed: 3, size: 256 * 1024, lfs: true),
        ], message: "gated weights")
        validTokens.insert(Demo.token)
        return Demo(
            commit1: commit1, commit2: commit2, prCommit: prCommit, featureCommit: featureCommit,
            datasetCommit: datasetCommit, spaceCommit: spaceCommit, gatedCommit: gatedCommit)
    }

    /// Commits every regular file under `directory` (recursively, symlinks followed, `.git` skipped) to
    /// `branch` of `repo` as one commit, served from disk; files of at least 10 MiB are LFS. Returns the sha.
    @discardableResult
    public func commitDirectory(_ directory: String, to repo: RepoRef, branch: String = "main", private isPrivate: Bool = false) throws -> String {
        let root = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath()
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey]) else {
            throw FakeHubError("cannot list '\(directory)'")
        }
        var files: [String: FileSpec] = [:]
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in walker {
            let resolved = url.resolvingSymlinksInPath()
            let values = try resolved.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
            if url.lastPathComponent == ".git" { walker.skipDescendants(); continue }
            guard values.isRegularFile == true else { continue }
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(prefix) else { continue }
            files[String(full.dropFirst(prefix.count))] = .file(path: resolved.path)
        }
        createRepo(repo, private: isPrivate)
        return try commit(repo, branch: branch, files: files, message: "import \(directory)")
    }
}
