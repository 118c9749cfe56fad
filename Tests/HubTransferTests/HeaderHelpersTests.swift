import Testing
import HubTransfer
import HubHTTP

@Suite struct ETagTests {
    @Test(arguments: [
        (#"W/"abc""#, "abc"), (#""abc""#, "abc"), ("abc", "abc"), (#"  "abc"  "#, "abc"),
        (#""8e2e871357bef652084a73f7173adc5eb8859a33""#, "8e2e871357bef652084a73f7173adc5eb8859a33"),
    ])
    func normalize(_ raw: String, _ expected: String) {
        #expect(ETag.normalize(raw) == expected)
    }

    @Test func normalizeMissing() {
        #expect(ETag.normalize(nil) == nil)
        #expect(ETag.normalize("") == nil)
        #expect(ETag.normalize("   ") == nil)
    }

    @Test func isContentHash() {
        #expect(ETag.isContentHash("8e2e871357bef652084a73f7173adc5eb8859a33"))
        #expect(ETag.isContentHash("5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"))
        #expect(!ETag.isContentHash("8E2E871357BEF652084A73F7173ADC5EB8859A33"), "uppercase is not how the Hub names content")
        #expect(!ETag.isContentHash("d41d8cd98f00b204e9800998ecf8427e"), "an md5 (S3-style ETag) is not a content name")
        #expect(!ETag.isContentHash("8e2e871357bef652084a73f7173adc5eb8859a3g"))
        #expect(!ETag.isContentHash("abc"))
        #expect(!ETag.isContentHash(""))
        #expect(!ETag.isContentHash("8e2e871357bef652084a73f7173adc5eb8859a33-2"))
    }
}

@Suite struct ContentRangeTests {
    @Test func valid() throws {
        let c = try #require(ContentRange.parse("bytes 0-99/1000"))
        #expect(c.start == 0)
        #expect(c.end == 99)
        #expect(c.total == 1000)
        let d = try #require(ContentRange.parse(" bytes 500-999/1000 "))
        #expect(d.start == 500 && d.end == 999 && d.total == 1000)
        let one = try #require(ContentRange.parse("bytes 7-7/8"))
        #expect(one.start == 7 && one.end == 7)
    }

    @Test func unknownTotal() throws {
        let c = try #require(ContentRange.parse("bytes 0-99/*"))
        #expect(c.start == 0 && c.end == 99)
        #expect(c.total == nil)
    }

    @Test(arguments: [
        "bytes 0-99", "items 0-99/1000", "bytes=0-99/1000", "bytes 99-0/1000", "bytes a-b/1000", "bytes 0-99/abc",
        "bytes */1000", "bytes 0-/1000", "bytes -99/1000", "bytes 0-99/", "", "bytes ", "0-99/1000", "bytes 0-99/1000/5",
    ])
    func malformed(_ value: String) {
        #expect(ContentRange.parse(value) == nil)
    }

    @Test func missing() {
        #expect(ContentRange.parse(nil) == nil)
    }

    @Test(arguments: ["bytes -5-10/20", "bytes +0-9/10", "bytes 0-9/-10"])
    func signedOrStrayNumbersRejected(_ value: String) {
        #expect(ContentRange.parse(value) == nil)
    }
}

/// The raw header lines curl hands over, parsed on their bytes.
@Suite struct HTTPHeaderLineTests {
    static func parsed(_ lines: [String]) -> HTTPHeaders {
        var h = HTTPHeaders()
        for l in lines { h.parseLine(l) }
        return h
    }

    @Test func nameAndValueTrimmedOfSpacesTabsAndLineEnds() {
        let h = Self.parsed(["Content-Range: bytes 0-99/1000\r\n", "X-Linked-Etag:\t\"abc\" \r\n", "ETag:\"d\"\n", "  Spaced  :  v  \r\n"])
        #expect(h.fields.map(\.name) == ["Content-Range", "X-Linked-Etag", "ETag", "Spaced"])
        #expect(h.fields.map(\.value) == ["bytes 0-99/1000", "\"abc\"", "\"d\"", "v"])
    }

    @Test func onlyTheFirstColonSplits() {
        let h = Self.parsed(["Location: http://127.0.0.1:8080/a?b=c:d\r\n"])
        #expect(h["location"] == "http://127.0.0.1:8080/a?b=c:d")
    }

    @Test func statusBlankAndColonlessLinesAreNotHeaders() {
        var h = HTTPHeaders()
        let taken = ["HTTP/1.1 206 Partial Content\r\n", "HTTP/2 200\r\n", "\r\n", "no colon here\r\n", "Empty:\r\n"].map { h.parseLine($0) }
        #expect(taken == [false, false, false, false, true])
        #expect(h.fields.count == 1 && h["empty"] == "")
    }

    @Test func namesCompareCaseInsensitivelyAsASCIIOnly() {
        let h = Self.parsed(["x-LINKED-size: 5\r\n", "A@: at\r\n", "Content-Length: 1\r\n", "content-length: 2\r\n"])
        #expect(h["X-Linked-Size"] == "5")
        #expect(h["a`"] == nil, "@ and ` differ by the case bit but are not letters")
        #expect(h["A@"] == "at")
        #expect(h["Content-Lengt"] == nil && h["Content-Lengthh"] == nil)
        #expect(h.values("CONTENT-LENGTH") == ["1", "2"])
    }

    @Test func nonASCIIValuesSurvive() {
        let h = Self.parsed(["X-Name: caf\u{E9} \u{1F600}\r\n"])
        #expect(h["x-name"] == "caf\u{E9} \u{1F600}")
    }
}
