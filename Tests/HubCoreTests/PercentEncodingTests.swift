import Testing
import HubCore

/// Expected values computed with Python 3.11 `urllib.parse.quote(text, safe=...)`.
@Suite struct PercentEncodingTests {
    static let quoteCases: [(text: String, safe: String, expected: String)] = [
        ("feature/x", "", "feature%2Fx"),
        ("refs/pr/1", "", "refs%2Fpr%2F1"),
        ("main", "", "main"),
        ("odd name & #1?.txt", "/", "odd%20name%20%26%20%231%3F.txt"),
        ("ü", "/", "%C3%BC"),
        ("~a_b.c-d", "/", "~a_b.c-d"),
        ("sub dir/ü#.bin", "/", "sub%20dir/%C3%BC%23.bin"),
        ("a+b=c;d@e", "/", "a%2Bb%3Dc%3Bd%40e"),
        ("\u{7f}%", "/", "%7F%25"),
        ("a/b", "/", "a/b"),
        ("", "/", ""),
    ]

    @Test(arguments: quoteCases)
    func quoteMatchesPython(_ c: (text: String, safe: String, expected: String)) {
        #expect(PercentEncoding.quote(c.text, safe: c.safe) == c.expected)
    }

    @Test func quoteDefaultKeepsSlash() {
        #expect(PercentEncoding.quote("a b/c") == "a%20b/c")
    }

    @Test func revisionSegmentAndFilePath() {
        #expect(PercentEncoding.revisionSegment("feature/x") == "feature%2Fx")
        #expect(PercentEncoding.revisionSegment("refs/pr/1") == "refs%2Fpr%2F1")
        #expect(PercentEncoding.filePath("odd name & #1?.txt") == "odd%20name%20%26%20%231%3F.txt")
        #expect(PercentEncoding.filePath("a b/c#d") == "a%20b/c%23d")
        #expect(PercentEncoding.filePath("dir/ü.txt") == "dir/%C3%BC.txt")
        #expect(PercentEncoding.filePath("~x") == "~x")
    }

    @Test(arguments: quoteCases)
    func decodeInvertsQuote(_ c: (text: String, safe: String, expected: String)) {
        #expect(PercentEncoding.decode(c.expected) == c.text)
    }

    @Test func decodeCases() {
        #expect(PercentEncoding.decode("%c3%bc") == "ü", "lowercase hex digits are accepted")
        #expect(PercentEncoding.decode("a+b") == "a+b", "plus is not a space in paths")
        #expect(PercentEncoding.decode("plain") == "plain")
        #expect(PercentEncoding.decode("") == "")
        #expect(PercentEncoding.decode("%2F%2f") == "//")
    }

    @Test(arguments: ["%zz", "%", "%4", "a%4", "%g1", "abc%", "%C3", "%FF", "%C3%28"])
    func decodeRejectsMalformed(_ text: String) {
        #expect(PercentEncoding.decode(text) == nil)
    }
}
