import Testing
import Foundation
import HubCore

/// Expectations checked with Python 3.11 `fnmatch.fnmatch` (the official client's matcher).
@Suite struct GlobPatternTests {
    static let names = ["a.json", "sub/a.json", "sub/deep/a.json", "a.JSON", "b.txt", "a.txt", "d.txt", "ab.txt",
                        "sub", "sub/", "sub/x", "subx/y", "]", "a", "-", "b", "c", "x", "dx", "ax", "a[", "aXbYc", "abc", "ac", "q/x", "", ".txt"]

    static let cases: [(pattern: String, matching: [String])] = [
        ("*.json", ["a.json", "sub/a.json", "sub/deep/a.json"]),
        ("sub/*", ["sub/a.json", "sub/deep/a.json", "sub/", "sub/x"]),
        ("sub/", ["sub/a.json", "sub/deep/a.json", "sub/", "sub/x"]),
        ("?.txt", ["b.txt", "a.txt", "d.txt"]),
        ("[abc].txt", ["b.txt", "a.txt"]),
        ("[!a].txt", ["b.txt", "d.txt"]),
        ("[a-c].txt", ["b.txt", "a.txt"]),
        ("*.JSON", ["a.JSON"]),
        ("[!a-c]x", ["dx"]),
        ("[]]", ["]"]),
        ("[!]]", ["a", "-", "b", "c", "x"]),
        ("[a-]", ["a", "-"]),
        ("[c-a]", []),
        ("[!c-a]", ["]", "a", "-", "b", "c", "x"]),
        ("a[", ["a["]),
        ("a*b*c", ["aXbYc", "abc"]),
        ("**/x", ["sub/x", "q/x"]),
        ("*", names),
        ("a.json", ["a.json"]),
    ]

    @Test(arguments: cases)
    func matchesLikeFnmatch(_ c: (pattern: String, matching: [String])) {
        let g = GlobPattern(c.pattern)
        let got = Self.names.filter { g.matches($0) }
        #expect(got == c.matching, "pattern \(c.pattern)")
        #expect(g.pattern == c.pattern)
        #expect(g.description == c.pattern)
    }

    @Test func starCrossesSlash() {
        #expect(GlobPattern("*.json").matches("sub/a.json"))
        #expect(GlobPattern("*.json").matches("a/b/c/d.json"))
        #expect(GlobPattern("?").matches("/"), "? matches a slash too")
    }

    @Test func caseSensitive() {
        #expect(!GlobPattern("*.json").matches("A.JSON"))
        #expect(!GlobPattern("README.md").matches("readme.md"))
        #expect(GlobPattern("README.md").matches("README.md"))
    }

    @Test func unicodeIsOneCharacter() {
        #expect(GlobPattern("?.txt").matches("ü.txt"))
        #expect(GlobPattern("[ü]").matches("ü"))
    }

    @Test("The validating initializer refuses what fnmatch would read another way, naming the pattern")
    func validatingRefusesMisreadPatterns() throws {
        for (pattern, why) in [("", "empty"), ("[", "no closing ']'"), ("acme/[ab", "no closing ']'"), ("a[!", "no closing ']'"),
                               ("[z-a]", "runs backwards")] {
            let e = try #require(throws: HubError.self, "pattern '\(pattern)'") { try GlobPattern(validating: pattern) }
            #expect(e.kind == .usage)
            #expect(e.message.contains("'\(pattern)'") && e.message.contains(why), "\(e.message)")
        }
        for pattern in ["acme/*", "[]]", "[!]]x", "[a-]", "a?[0-9]*", "sub/"] {
            let g = try GlobPattern(validating: pattern)
            #expect(g == GlobPattern(pattern), "'\(pattern)' parses as the plain initializer does")
        }
        #expect(GlobPattern("a?[xy]b*/").literals == ["a", "b", "/"], "sets, wildcards and the implied '*' are not literals")
    }

    @Test func manyStarsStayFast() {
        // Backtracking to the last star only: a pathological pattern finishes at once.
        let p = GlobPattern(String(repeating: "a*", count: 30) + "b")
        #expect(!p.matches(String(repeating: "a", count: 2000)))
        #expect(p.matches(String(repeating: "a", count: 2000) + "b"))
    }
}

@Suite struct PathFilterTests {
    static let paths = ["README.md", "config.json", "model.safetensors", "sub/a.json", "sub/w.bin", "onnx/model.onnx", "pytorch_model.bin"]

    @Test func emptyFilterKeepsEverything() {
        let f = PathFilter()
        #expect(f.isEverything)
        #expect(Self.paths.allSatisfy(f.keeps))
    }

    @Test func includeOnly() {
        let f = PathFilter(include: ["*.json"])
        #expect(!f.isEverything)
        #expect(Self.paths.filter(f.keeps) == ["config.json", "sub/a.json"])
    }

    @Test func excludeOnly() {
        let f = PathFilter(exclude: ["*.bin", "onnx/"])
        #expect(Self.paths.filter(f.keeps) == ["README.md", "config.json", "model.safetensors", "sub/a.json"])
    }

    @Test func includeAndExclude() {
        let f = PathFilter(include: ["sub/", "*.md"], exclude: ["*.bin"])
        #expect(Self.paths.filter(f.keeps) == ["README.md", "sub/a.json"])
    }

    @Test func excludeWinsOverInclude() {
        let f = PathFilter(include: ["*.json"], exclude: ["config.json"])
        #expect(!f.keeps("config.json"))
        #expect(f.keeps("sub/a.json"))
    }

    @Test func folderPatternMatchesEverythingBelow() {
        let f = PathFilter(include: ["sub/"])
        #expect(f.keeps("sub/a.json"))
        #expect(f.keeps("sub/deep/er/x"))
        #expect(!f.keeps("sub"))
        #expect(!f.keeps("subway/x"))
        #expect(!f.keeps("other/sub/x"))
    }

    @Test func codableRoundTrip() throws {
        let f = PathFilter(include: ["*.json"], exclude: ["sub/"])
        let data = try JSONEncoder().encode(f)
        let back = try JSONDecoder().decode(PathFilter.self, from: data)
        #expect(back == f)
        #expect(back.keeps("a.json"))
        #expect(!back.keeps("sub/a.json"))
        let partial = try JSONDecoder().decode(PathFilter.self, from: Data(#"{"exclude":["*.bin"]}"#.utf8))
        #expect(partial.include.isEmpty)
        #expect(!partial.keeps("x.bin"))
        #expect(partial.keeps("x.json"))
    }
}
