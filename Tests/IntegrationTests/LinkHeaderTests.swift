import HubAPI
import HubCore
import Testing

/// `Link: <url>; rel="next"` parsing for tree pagination.
@Suite struct LinkHeaderTests {
    let base = "http://127.0.0.1:8080/api/models/acme/tiny/tree/main?recursive=true"

    @Test func absoluteNextLink() throws {
        let v = [#"<http://127.0.0.1:8080/api/models/acme/tiny/tree/main?recursive=true&cursor=abc>; rel="next""#]
        #expect(try LinkHeader.next(v, base: base) == "http://127.0.0.1:8080/api/models/acme/tiny/tree/main?recursive=true&cursor=abc")
    }

    @Test func nextAmongOtherLinksAndCommasInsideTheURL() throws {
        let v = [#"<http://h/a?x=1,2>; rel="prev", <http://h/b?c=3,4>; rel="next""#]
        #expect(try LinkHeader.next(v, base: base) == "http://h/b?c=3,4")
    }

    @Test func relativeLinksAreResolvedAgainstTheRequest() throws {
        #expect(try LinkHeader.next([#"</api/models/acme/tiny/tree/main?cursor=2>; rel="next""#], base: base)
                == "http://127.0.0.1:8080/api/models/acme/tiny/tree/main?cursor=2")
    }

    @Test func noNextMeansLastPage() throws {
        #expect(try LinkHeader.next([#"<http://h/a>; rel="prev""#], base: base) == nil)
        #expect(try LinkHeader.next([], base: base) == nil)
        #expect(try LinkHeader.next(["garbage"], base: base) == nil)
    }

    @Test func relMayListSeveralTypes() throws {
        #expect(try LinkHeader.next([#"<http://h/n>; rel="next last""#], base: base) == "http://h/n")
    }
}
