import Testing
import Foundation
import HubStore
import HubCore

private func r(_ a: Int64, _ b: Int64) -> ByteRange { ByteRange(a, b) }
private let etag = String(repeating: "e", count: 64)

@Suite struct ResumeJournalTests {
    @Test func writeReopenReadBack() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("x.journal")

        let j = ResumeJournal(path: path, etag: etag, size: 100)
        try j.open(fresh: false)
        #expect(j.recorded.ranges.isEmpty)
        try j.append([r(0, 10), r(20, 30)])
        try j.append([r(10, 20)])
        try j.append([r(0, 5), r(40, 40)])  // already recorded / empty: nothing written
        j.sync()
        j.close()
        #expect(j.recorded.ranges == [r(0, 30)])
        #expect(dir.read("x.journal") == "hubmirror-journal 1 \(etag) 100\n0 10\n20 30\n10 20\n")

        let again = ResumeJournal(path: path, etag: etag, size: 100)
        try again.open(fresh: false)
        #expect(again.recorded.ranges == [r(0, 30)])
        try again.append([r(50, 60)])
        again.close()

        let third = ResumeJournal(path: path, etag: etag, size: 100)
        try third.open(fresh: false)
        #expect(third.recorded.ranges == [r(0, 30), r(50, 60)])
        third.close()
    }

    @Test func freshDiscardsEarlierRecord() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("x.journal")
        let j = ResumeJournal(path: path, etag: etag, size: 100)
        try j.open(fresh: false)
        try j.append([r(0, 50)])
        j.close()
        let k = ResumeJournal(path: path, etag: etag, size: 100)
        try k.open(fresh: true)
        #expect(k.recorded.ranges.isEmpty)
        k.close()
        #expect(dir.read("x.journal") == "hubmirror-journal 1 \(etag) 100\n")
    }

    @Test func tornLastLineIgnored() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("hubmirror-journal 1 \(etag) 100\n0 10\n20 30\n40 50", to: "x.journal")
        let j = ResumeJournal(path: dir.file("x.journal"), etag: etag, size: 100)
        try j.open(fresh: false)
        #expect(j.recorded.ranges == [r(0, 10), r(20, 30)])
        j.close()
    }

    @Test func appendAfterTornLineSurvivesReopen() throws {
        // A crash left a torn line; the next run resumes and records more. Those records must
        // still be readable after another crash.
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("hubmirror-journal 1 \(etag) 100\n0 10\n20 3", to: "x.journal")
        let j = ResumeJournal(path: dir.file("x.journal"), etag: etag, size: 100)
        try j.open(fresh: false)
        #expect(j.recorded.ranges == [r(0, 10)])
        try j.append([r(50, 60)])
        j.close()
        let k = ResumeJournal(path: dir.file("x.journal"), etag: etag, size: 100)
        try k.open(fresh: false)
        defer { k.close() }
        #expect(k.recorded.ranges == [r(0, 10), r(50, 60)])
        // Whatever happens, nothing that was never recorded may appear.
        #expect(k.recorded.ranges.allSatisfy { IntervalSet([r(0, 10), r(50, 60)]).contains($0) })
    }

    @Test(arguments: [
        ("hubmirror-journal 1 \(String(repeating: "f", count: 64)) 100\n0 10\n", "other etag"),
        ("hubmirror-journal 1 \(etag) 200\n0 10\n", "other size"),
        ("hubmirror-journal 2 \(etag) 100\n0 10\n", "other version"),
        ("garbage\n0 10\n", "no header"),
        ("", "empty file"),
    ])
    func headerMismatchStartsFresh(_ text: String, _ why: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write(text, to: "x.journal")
        let j = ResumeJournal(path: dir.file("x.journal"), etag: etag, size: 100)
        try j.open(fresh: false)
        #expect(j.recorded.ranges.isEmpty, "\(why)")
        try j.append([r(0, 1)])
        j.close()
        #expect(dir.read("x.journal") == "hubmirror-journal 1 \(etag) 100\n0 1\n", "\(why): the old journal is replaced")
    }

    @Test func parseIgnoresBadAndOutOfBoundsLines() {
        let text = "hubmirror-journal 1 \(etag) 100\n0 10\n90 120\n-5 3\n30 20\nx y\n1 2 3\n\n50 100\n60 70"
        let set = ResumeJournal.parse(text, etag: etag, size: 100)
        #expect(set?.ranges == [r(0, 10), r(50, 100)], "beyond size, reversed, negative, garbage and torn lines are ignored")
    }

    @Test func parseHeaderOnly() {
        #expect(ResumeJournal.parse("hubmirror-journal 1 \(etag) 100\n", etag: etag, size: 100)?.ranges == [])
        #expect(ResumeJournal.parse("hubmirror-journal 1 \(etag) 100", etag: etag, size: 100)?.ranges == [])
        #expect(ResumeJournal.parse("hubmirror-journal 1 \(etag) 100\n", etag: etag, size: 99) == nil)
    }

    @Test func removeDeletesFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let j = ResumeJournal(path: dir.file("x.journal"), etag: etag, size: 10)
        try j.open(fresh: true)
        #expect(FileManager.default.fileExists(atPath: dir.file("x.journal")))
        j.remove()
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.journal")))
        #expect(dir.list().isEmpty, "no temp files left behind")
    }
}
