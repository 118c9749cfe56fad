import Foundation
@testable import HubBundle
import HubCore
import HubDigest
import HubStore
import Testing

/// The hand-written tar writer and reader against GNU tar, bsdtar and Python's tarfile.
@Suite struct TarInteropTests {
    /// Members with a long (pax) name, an empty file, odd sizes.
    static let members: [(String, [UInt8])] = [
        ("hubmirror-bundle/manifest.json", Array("{\"a\":1}\n".utf8)),
        ("blobs/" + String(repeating: "ab", count: 32), (0..<1000).map { UInt8($0 % 251) }),
        ("empty", []),
        ("deep/" + String(repeating: "n", count: 120) + "/long-name.bin", (0..<513).map { UInt8($0 % 7) }),
    ]

    func writeArchive(_ path: String) throws {
        let out = try OutputStream(path: path)
        let tar = TarWriter(out, mtime: 1_700_000_000)
        for (name, data) in Self.members { try tar.add(name, data) }
        try tar.finish()
        try out.finish(durable: false)
    }

    @Test func gnuTarBsdtarAndTarfileListAndExtractWhatTheWriterWrote() async throws {
        let tmp = TempDir()
        let archive = tmp.file("a.tar")
        try writeArchive(archive)
        #expect(FS.fileSize(archive)! % 512 == 0)
        let names = Self.members.map(\.0)
        for lister in [["tar", "-tf"], ["bsdtar", "-tf"]] {
            let r = try await tool(lister[0], [lister[1], archive])
            #expect(r.status == 0 && r.err.isEmpty, "\(lister[0]): \(r.err)")
            #expect(r.out.split(separator: "\n").map(String.init) == names, "\(lister[0]) lists \(r.out)")
        }
        let py = try await tool("python3", ["-c", "import sys,tarfile; t=tarfile.open(sys.argv[1]); print('\\n'.join(m.name+' '+str(m.size) for m in t))", archive])
        #expect(py.out.split(separator: "\n").map(String.init) == Self.members.map { "\($0.0) \($0.1.count)" }, "\(py.err)")
        for (i, extractor) in [["tar", "-xf"], ["bsdtar", "-xf"]].enumerated() {
            let dir = tmp.file("x\(i)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = try await tool(extractor[0], [extractor[1], archive], cwd: dir)
            #expect(r.status == 0, "\(r.err)")
            for (name, data) in Self.members {
                #expect(FS.readFile(dir + "/" + name) == data, "\(extractor[0]) extracted \(name)")
            }
        }
    }

    @Test func theReaderReadsWhatGNUTarWritesInPaxAndGNUFormats() async throws {
        let tmp = TempDir()
        let src = tmp.file("src")
        let long = String(repeating: "d", count: 110) + "/file.bin"
        try FileManager.default.createDirectory(atPath: src + "/" + (long as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let content = (0..<70_000).map { UInt8($0 % 253) }
        _ = FileManager.default.createFile(atPath: src + "/" + long, contents: Data(content))
        for format in ["pax", "gnu", "ustar"] where format != "ustar" {
            let archive = tmp.file("\(format).tar")
            let r = try await tool("tar", ["--format=\(format)", "-cf", archive, "-C", src, long])
            #expect(r.status == 0, "\(r.err)")
            let reader = TarReader(try InputStream(path: archive))
            let m = try #require(try reader.next())
            #expect(m.name == long, "\(format): \(m.name)")
            #expect(m.header.kind == .regular)
            #expect(try reader.readAll(limit: 1 << 20) == content)
            #expect(try reader.next() == nil)
        }
    }

    @Test func aTruncatedArchiveOrBadChecksumIsAFormatErrorNamingTheEntry() throws {
        let tmp = TempDir()
        let archive = tmp.file("a.tar")
        try writeArchive(archive)
        let bytes = FS.readFile(archive)!
        // Cut inside the data of the second member.
        try FS.writeAtomically(Array(bytes.prefix(512 * 3 + 300)), to: archive)
        let reader = TarReader(try InputStream(path: archive))
        _ = try reader.next()
        _ = try reader.next()
        let e = #expect(throws: HubError.self) { try reader.readAll(limit: 1 << 20) }
        #expect(e?.kind == .bundleFormat && e?.message.contains("blobs/abab") == true, "\(String(describing: e))")
        var damaged = bytes
        damaged[10] ^= 0x01
        try FS.writeAtomically(damaged, to: archive)
        let e2 = #expect(throws: HubError.self) { try TarReader(try InputStream(path: archive)).next() }
        #expect(e2?.kind == .bundleFormat && e2?.message.contains("checksum") == true)
    }

    @Test func paxRecordsCountTheirOwnLength() {
        for n in [1, 5, 80, 95, 96, 97, 990, 1000] {
            let value = String(repeating: "x", count: n)
            let rec = TarHeader.paxRecord("path", value)
            let len = Int(String(decoding: rec.prefix { $0 != 0x20 }, as: UTF8.self))!
            #expect(len == rec.count, "record for \(n) chars")
            #expect(TarHeader.parsePax(rec) == ["path": value])
        }
    }

    @Test func sizesBeyondEightGiBGoInPax() {
        let h = TarHeader(name: "blobs/big", size: 9 << 30)
        let bytes = h.encoded()
        #expect(bytes.count == 512 * 3)
        #expect(TarHeader.memberSize(name: "blobs/big", size: 9 << 30) == 512 * 3 + (9 << 30))
        let records = TarHeader.parsePax(Array(bytes[512..<1024].prefix { $0 != 0 }))
        #expect(records?["size"] == String(9 << 30))
    }
}
