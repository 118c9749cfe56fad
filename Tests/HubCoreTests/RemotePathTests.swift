import Testing
import HubCore

@Suite struct RemotePathTests {
    @Test(arguments: ["..", "a/../b", "../a", "a/..", "/abs", "a\\b", "a\u{0}b", "a\u{1}b", "a\nb", "a\tb", "x\u{7f}", "a//b", ".", "./a", "a/./b", "", "a/", "/",
                      ".cache", ".cache/huggingface/download/x.metadata", String(repeating: "n", count: 256), "d/" + String(repeating: "a/", count: 2100) + "x"])
    func rejectsUnsafe(_ path: String) {
        #expect(RemotePath.problem(with: path) != nil)
        let error = #expect(throws: HubError.self) { try RemotePath.validate(path, repo: "acme/tiny") }
        #expect(error?.kind == .unsafePath)
        #expect(error?.message.contains("acme/tiny") == true)
    }

    @Test(arguments: ["README.md", "a b/c d.txt", "ü/日本語.txt", "odd name & #1?.txt", "deep/er/still/file.bin", ".gitattributes", "..x", "x..", "...", ".cache_other/x", String(repeating: "n", count: 255), "a~b"])
    func acceptsSafe(_ path: String) throws {
        #expect(RemotePath.problem(with: path) == nil)
        #expect(try RemotePath.validate(path) == path)
    }
}
