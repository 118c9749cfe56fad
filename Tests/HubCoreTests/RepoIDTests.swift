import Testing
import Foundation
import HubCore

@Suite struct RepoIDTests {
    @Test(arguments: ["gpt2", "acme/tiny-model", "a.b_c", "A1/b-2.c_d", String(repeating: "a", count: 96), "ns/" + String(repeating: "b", count: 96)])
    func validIDs(_ text: String) throws {
        let id = try RepoID(text)
        #expect(id.description == text)
    }

    @Test func splitsNamespaceAndName() throws {
        let single = try RepoID("gpt2")
        #expect(single.namespace == nil)
        #expect(single.name == "gpt2")
        let pair = try RepoID("acme/tiny-model")
        #expect(pair.namespace == "acme")
        #expect(pair.name == "tiny-model")
    }

    @Test(arguments: ["a--b", "..x", "-a", "a-", "a.", ".a", "a/", "/a", "a/b/c", String(repeating: "x", count: 97),
                      "ns/" + String(repeating: "x", count: 97), "a b", "", "a..b", "ü", "a:b", "a\\b", "a/b--c"])
    func invalidIDs(_ text: String) {
        let error = #expect(throws: HubError.self) { try RepoID(text) }
        #expect(error?.kind == .usage)
        #expect(error?.exitCode == 64)
    }

    @Test func codableRoundTripAndRejectsInvalid() throws {
        let id = try RepoID("acme/tiny")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["acme\/tiny"]"# || String(decoding: data, as: UTF8.self) == #"["acme/tiny"]"#)
        #expect(try JSONDecoder().decode([RepoID].self, from: data) == [id])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([RepoID].self, from: Data(#"["a--b"]"#.utf8)) }
    }
}

@Suite struct RepoRefTests {
    static let cases: [(RepoType, String, String)] = [
        (.model, "gpt2", "models--gpt2"),
        (.model, "acme/tiny-model", "models--acme--tiny-model"),
        (.dataset, "acme/data", "datasets--acme--data"),
        (.dataset, "squad", "datasets--squad"),
        (.space, "acme/demo.app", "spaces--acme--demo.app"),
        (.space, "x_y", "spaces--x_y"),
    ]

    @Test(arguments: cases)
    func cacheFolderNameRoundTrip(_ type: RepoType, _ id: String, _ folder: String) throws {
        let ref = RepoRef(type: type, id: try RepoID(id))
        #expect(ref.cacheFolderName == folder)
        let back = try #require(RepoRef(cacheFolderName: folder))
        #expect(back == ref)
        #expect(back.type == type)
        #expect(back.id.description == id)
    }

    @Test(arguments: ["gpt2", "models--", "models--a--b--c", "model--gpt2", "kernels--a--b", "datasets----x", "models---a", "spaces--a--"])
    func rejectsBadFolderNames(_ folder: String) {
        #expect(RepoRef(cacheFolderName: folder) == nil)
    }

    @Test func descriptionAndPrefixes() throws {
        let id = try RepoID("acme/x")
        #expect(RepoRef(type: .model, id: id).description == "acme/x")
        #expect(RepoRef(type: .dataset, id: id).description == "datasets/acme/x")
        #expect(RepoRef(type: .space, id: id).description == "spaces/acme/x")
        #expect(RepoType.model.resolvePrefix == "")
        #expect(RepoType.dataset.resolvePrefix == "datasets/")
        #expect(RepoType.space.apiSegment == "spaces")
    }

    @Test(arguments: [("model", RepoType.model), ("models", .model), ("Dataset", .dataset), ("datasets", .dataset), ("space", .space), ("SPACES", .space)])
    func repoTypeParsing(_ text: String, _ expected: RepoType) {
        #expect(RepoType(parsing: text) == expected)
    }

    @Test func repoTypeParsingRejectsUnknown() {
        #expect(RepoType(parsing: "kernel") == nil)
        #expect(RepoType(parsing: "") == nil)
    }
}

@Suite struct RevisionTests {
    @Test func commitSHA() {
        #expect(Revision.isCommitSHA(String(repeating: "a", count: 40)))
        #expect(Revision.isCommitSHA("0123456789abcdef0123456789abcdef01234567"))
        #expect(!Revision.isCommitSHA("0123456789ABCDEF0123456789abcdef01234567"), "uppercase is not a commit id")
        #expect(!Revision.isCommitSHA(String(repeating: "a", count: 39)))
        #expect(!Revision.isCommitSHA(String(repeating: "a", count: 41)))
        #expect(!Revision.isCommitSHA(String(repeating: "a", count: 64)))
        #expect(!Revision.isCommitSHA(String(repeating: "g", count: 40)))
        #expect(!Revision.isCommitSHA("main"))
        #expect(!Revision.isCommitSHA(""))
        #expect(Revision.defaultBranch == "main")
    }

    @Test(arguments: ["main", "v1.0", "feature/x", "refs/pr/1", "refs/convert/parquet", String(repeating: "a", count: 40), "with space", "ü"])
    func validRevisions(_ rev: String) throws {
        try Revision.validate(rev)
    }

    @Test(arguments: ["", ".", "..", "../x", "a/../b", "a/./b", "/main", "main/", "a//b", "a\\b", "a\nb", "a\u{0}b", "a\u{7f}", "\t"])
    func invalidRevisions(_ rev: String) {
        let error = #expect(throws: HubError.self) { try Revision.validate(rev) }
        #expect(error?.kind == .usage)
    }
}
