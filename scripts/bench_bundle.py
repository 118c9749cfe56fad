#!/usr/bin/env python3
"""Bundle benchmark: `hubmirror export` against `tar -c` of the same files, and verified `hubmirror
import` against `tar -x` (which verifies nothing) and `tar -x` followed by `sha256sum`, in one run.

Generates a repo of large random files, serves it with `hubmirror-fakehub --serve-dir` on 127.0.0.1, syncs
it into a source store once (not timed), then runs several rounds of every tool, the order rotated by one
each round, with `sync` (write back dirty pages) and a dropped output before each. Every tool runs under
/usr/bin/time (wall, user and system CPU seconds, peak RSS). After each run the script checks, outside the
timing, that every byte arrived: bundle and tar sizes, and the SHA-256 of every file the import or the
extraction produced (first round; sizes on the others). Prints medians and ratios; `--write-doc` puts the
table in the "Bundles" section of Docs/performance.md. Not a test: nothing here asserts.

    swift build -c release --scratch-path .build-bundle-rel
    .venv/bin/python scripts/bench_bundle.py --bin .build-bundle-rel/release --size-gib 4 --files 2 --rounds 3 --work $PWD/bench-out/bundle
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from bench import make_data, run_timed, sha256_file, log  # noqa: E402


def rm(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build-bundle-rel", "release"))
    ap.add_argument("--size-gib", type=float, default=4)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out", "bundle"))
    ap.add_argument("--write-doc", action="store_true")
    args = ap.parse_args()
    bindir = os.path.abspath(args.bin)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    size = int(args.size_gib * (1 << 30) / args.files)
    data = os.path.join(work, "data")
    files = make_data(data, args.files, size)
    total = size * args.files
    src = os.path.join(work, "src")
    repo = "bench/bundle"
    folder = "models--bench--bundle"
    if not os.path.isdir(os.path.join(src, folder, "snapshots")):
        p = subprocess.Popen([os.path.join(bindir, "hubmirror-fakehub"), "--serve-dir", data, "--repo", repo, "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        endpoint = p.stdout.readline().strip()[len("listening on "):]
        try:
            log(f"syncing {total >> 20} MiB into {src}")
            subprocess.run([os.path.join(bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", src, "--no-fsync"],
                           check=True, stdout=subprocess.DEVNULL)
        finally:
            p.terminate()
            p.wait()
    blobs = os.path.join(src, folder, "blobs")
    snapshot = os.path.join(src, folder, "snapshots", os.listdir(os.path.join(src, folder, "snapshots"))[0])
    want = {n: s for n, s in files}
    bundle, tarball = os.path.join(work, "b.tar"), os.path.join(work, "t.tar")
    dst, xdir = os.path.join(work, "dst"), os.path.join(work, "x")
    hm = os.path.join(bindir, "hubmirror")

    def check_import(first):
        snap = os.path.join(dst, folder, "snapshots")
        path = os.path.join(snap, os.listdir(snap)[0])
        for n, s in want.items():
            p = os.path.join(path, n)
            if os.path.getsize(p) != size or (first and sha256_file(p) != s):
                return f"{n} wrong"
        return None

    def check_extract(first):
        for n, s in want.items():
            p = os.path.join(xdir, "blobs", s)
            if os.path.getsize(p) != size or (first and sha256_file(p) != s):
                return f"{n} wrong"
        return None

    # name: (prepare, command, check)
    tools = {
        "hubmirror export": (lambda: rm(bundle), [hm, "export", repo, "--cache-dir", src, "--out", bundle, "--no-fsync"],
                             lambda first: None if os.path.getsize(bundle) > total else "bundle short"),
        "tar -c": (lambda: rm(tarball), ["tar", "-cf", tarball, "-C", os.path.join(src, folder), "blobs"],
                   lambda first: None if os.path.getsize(tarball) > total else "tar short"),
        "hubmirror import": (lambda: rm(dst), [hm, "import", bundle, "--cache-dir", dst, "--no-fsync"], check_import),
        "hubmirror import (fsync)": (lambda: rm(dst), [hm, "import", bundle, "--cache-dir", dst], check_import),
        "tar -x": (lambda: (rm(xdir), os.makedirs(xdir)), ["tar", "-xf", tarball, "-C", xdir], check_extract),
        "tar -x + sha256sum": (lambda: (rm(xdir), os.makedirs(xdir)),
                               ["sh", "-c", f"tar -xf {tarball} -C {xdir} && sha256sum {xdir}/blobs/* >/dev/null"], check_extract),
    }
    # Export and tar -c first (the import and extraction rows read what they wrote).
    for name in ["hubmirror export", "tar -c"]:
        tools[name][0]()
        subprocess.run(tools[name][1], check=True)
    results = {n: [] for n in tools}
    names = list(tools)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            prepare, cmd, check = tools[name]
            prepare()
            subprocess.run(["sync"])
            run = run_timed(cmd)
            bad = "exit %d" % run.code if run.code else check(r == 0)
            if bad:
                log(f"{name}: dropped ({bad})")
                continue
            results[name].append(run)
            log(f"round {r + 1} {name}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.rss >> 10} MiB RSS")
        # Export and tar -c rewrote their outputs: the next round's readers use those.

    def med(name, f):
        v = [f(x) for x in results[name]]
        return statistics.median(v) if v else float("nan")

    base = {"hubmirror export": "tar -c", "tar -c": "tar -c", "hubmirror import": "tar -x", "hubmirror import (fsync)": "tar -x",
            "tar -x": "tar -x", "tar -x + sha256sum": "tar -x"}
    lines = [f"{total / (1 << 30):.1f} GiB in {args.files} files, page cache warm, {args.rounds} rounds (medians), "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, release build, 2-core VM.",
             "",
             "| tool | wall s | × baseline wall | CPU s (user+sys) | × baseline CPU | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in names:
        b = base[name]
        w, c = med(name, lambda x: x.wall), med(name, lambda x: x.cpu)
        lines.append(f"| {name} | {w:.2f} | {w / med(b, lambda x: x.wall):.2f} ({b}) | {c:.2f} | {c / med(b, lambda x: x.cpu):.2f} | "
                     f"{med(name, lambda x: x.rss) / 1024:.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.write_doc:
        doc = os.path.join(ROOT, "Docs", "performance.md")
        text = open(doc).read()
        start = text.find("## Bundles")
        section = "## Bundles\n\n" + BUNDLE_INTRO + "\n" + table + "\n"
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + section
        else:
            end = text.find("\n## ", start + 3)
            text = text[:start] + section + (text[end:] if end >= 0 else "")
        open(doc, "w").write(text)


BUNDLE_INTRO = """`scripts/bench_bundle.py` (one run, tools interleaved, rotated each round): `hubmirror export` of a repo
against `tar -c` of the same blob files, and `hubmirror import` (every blob hashed against the manifest
while it streams in, then published) against `tar -x` (which checks nothing) and `tar -x` followed by
`sha256sum` of the extracted files. CPU seconds from `/usr/bin/time`; every tool's output checked after it
ran (sizes, and the SHA-256 of every file in the first round). The import rows use `--no-fsync` like tar
unless marked fsync.
"""

if __name__ == "__main__":
    main()
