import Testing
import HubDigest

@Suite struct DigestTests {
    @Test(arguments: [
        (Digest.Algorithm.sha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (.sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (.sha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (.sha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ])
    func knownVectors(_ algorithm: Digest.Algorithm, _ input: String, _ expected: String) {
        #expect(Digest.hex(algorithm, of: Array(input.utf8)) == expected)
        let d = Digest(algorithm)
        #expect(d.algorithm == algorithm)
        for b in input.utf8 { d.update([b]) }
        #expect(d.finalizeHex() == expected, "byte-at-a-time updates give the same digest")
    }

    @Test func nonContiguousSequenceAndEmptyBuffer() {
        let d = Digest(.sha256)
        d.update("ab".utf8)               // a non-Array sequence
        d.update([UInt8]())               // empty update is a no-op
        d.update(UnsafeRawBufferPointer(start: nil, count: 0))
        d.update(["c"].flatMap(\.utf8))
        #expect(d.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hexEncoding() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
    }
}

@Suite struct ContentHasherTests {
    @Test func gitBlobIDs() {
        #expect(ContentHasher.gitBlobID(of: Array("# tiny\n".utf8)) == "8e2e871357bef652084a73f7173adc5eb8859a33")
        #expect(ContentHasher.gitBlobID(of: []) == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
    }

    @Test func zeroKiBStreamedInPieces() {
        let h = ContentHasher(size: 1024, gitBlob: false)
        #expect(h.expectedSize == 1024)
        for _ in 0..<4 { h.update([UInt8](repeating: 0, count: 256)) }
        #expect(h.bytesHashed == 1024)
        let r = h.finish()
        #expect(r.sha256 == "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")
        #expect(r.gitBlobID == nil)
    }

    @Test func bothDigestsAtOnce() {
        let content = Array("# tiny\n".utf8)
        let h = ContentHasher(size: Int64(content.count), gitBlob: true)
        h.update(Array(content[0..<3]))
        h.update(Array(content[3...]))
        let r = h.finish()
        #expect(r.gitBlobID == "8e2e871357bef652084a73f7173adc5eb8859a33")
        #expect(r.sha256 == Digest.hex(.sha256, of: content))
    }

    @Test func lfsPointerMatchesProtocol() {
        let sha = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
        let text = ContentHasher.lfsPointer(sha256: sha, size: 1024)
        #expect(text == "version https://git-lfs.github.com/spec/v1\noid sha256:\(sha)\nsize 1024\n")
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.hasSuffix("\n"))
        // The pointer is what git stores for an LFS file, so its blob id is the tree entry's `oid`.
        #expect(text.utf8.count == 129)
        #expect(ContentHasher.gitBlobID(of: Array(text.utf8)) == "abc8240e440587e9d4b59102163573492833ac8a")
    }
}
