#!/usr/bin/env python3
"""Fleet benchmark: how many bytes the upstream sends, and how long mirrors take, when N mirrors fill
themselves one after another (each with every earlier one as a peer) or all at the same moment
(each the others' peer, `--advertise`), and a chain A <- B <- C started together against one mirror
alone. The upstream is the fake hub serving a generated repo with `--trickle` on every file (a
per-request rate, standing in for a slower upstream link than the mirrors' own network); the
mirrors are `hubmirror serve` on 127.0.0.1. Every mirror is checked with `hubmirror verify` and its
snapshot's file sizes before its numbers count. Not a test: nothing here asserts.

    scripts/setup.sh && swift build -c release
    .venv/bin/python scripts/bench_fleet.py --size-gib 2 [--write-doc]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = "bench/fleet"


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"{cmd[0]} did not start: {line!r}")
    return p, line[len("listening on "):]


def make_repo(folder, size, files):
    os.makedirs(folder, exist_ok=True)
    each = size // files
    for i in range(files):
        path = os.path.join(folder, f"part-{i}.bin")
        if os.path.exists(path) and os.path.getsize(path) == each:
            continue
        with open(path, "wb") as f:
            left = each
            while left:
                n = min(left, 16 << 20)
                f.write(os.urandom(n))
                left -= n
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write('{"model_type": "fleet"}\n')
    return {name: os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)}


class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.join(a.bindir, "hubmirror")
        self.procs = []
        self.files = make_repo(os.path.join(a.work, "repo"), int(a.size_gib * (1 << 30)), a.files)
        self.size = sum(self.files.values())
        trickles = [x for name in self.files if name.endswith(".bin") for x in ("--trickle", f"{name}:{a.upstream_rate}")]
        hub, self.hub = start([os.path.join(a.bindir, "hubmirror-fakehub"), "--serve-dir", os.path.join(a.work, "repo"),
                               "--repo", REPO, "--port", "0", *trickles])
        self.procs.append(hub)

    def mirror(self, name):
        cache = os.path.join(self.a.work, "mirrors", name)
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        p, url = start([self.bin, "serve", "--cache-dir", cache, "--port", "0"])
        self.procs.append(p)
        return cache, url

    def sync_cmd(self, cache, peers=(), advertise=None):
        cmd = [self.bin, "sync", REPO, "--endpoint", self.hub, "--cache-dir", cache, "--no-fsync", "--json"]
        for p in peers:
            cmd += ["--peer", p]
        if advertise:
            cmd += ["--advertise", advertise]
        return cmd

    def finish(self, p, cache, started):
        out, _ = p.communicate()
        seconds = time.monotonic() - started
        if p.returncode != 0:
            raise SystemExit(f"sync into {cache} exited {p.returncode}")
        summary = [json.loads(l) for l in out.splitlines() if l.strip()][-1]
        self.check(cache)
        by = summary.get("bytesBySource") or {}
        return {"seconds": seconds, "upstream": sum(v for k, v in by.items() if k.startswith("upstream")),
                "peers": sum(v for k, v in by.items() if k.startswith("peer"))}

    def check(self, cache):
        v = subprocess.run([self.bin, "verify", "--cache-dir", cache], capture_output=True, text=True)
        if v.returncode != 0 or " 0 problem(s)" not in v.stdout:
            raise SystemExit(f"verify of {cache}: {v.stdout}{v.stderr}")
        snaps = os.path.join(cache, "models--" + REPO.replace("/", "--"), "snapshots")
        (commit,) = os.listdir(snaps)
        for name, size in self.files.items():
            got = os.path.getsize(os.path.join(snaps, commit, name))
            if got != size:
                raise SystemExit(f"{cache}: {name} has {got} bytes, not {size}")

    def sequential(self, n):
        """N mirrors one after another, each with the earlier ones as peers."""
        urls, rows = [], []
        for i in range(n):
            cache, url = self.mirror(f"seq{n}-{i}")
            started = time.monotonic()
            p = subprocess.Popen(self.sync_cmd(cache, urls), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            rows.append(self.finish(p, cache, started))
            urls.append(url)
        return rows

    def together(self, n, chain=False):
        """N mirrors at the same moment: each the others' peer (fleet), or a chain 0 <- 1 <- 2."""
        mirrors = [self.mirror(f"{'chain' if chain else 'fleet'}{n}-{i}") for i in range(n)]
        started = time.monotonic()
        procs = []
        for i, (cache, url) in enumerate(mirrors):
            if chain:
                cmd = self.sync_cmd(cache, [mirrors[i - 1][1]] if i else [])
            else:
                cmd = self.sync_cmd(cache, [u for j, (_, u) in enumerate(mirrors) if j != i], advertise=url) if n > 1 else self.sync_cmd(cache)
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        return [self.finish(p, cache, started) for p, (cache, _) in zip(procs, mirrors)]

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def table(b, results):
    gib = b.size / (1 << 30)
    lines = [f"Repo: {len(b.files) - 1} files of {b.files['part-0.bin'] / (1 << 20):.0f} MiB + config.json ({gib:.2f} GiB); "
             f"upstream: fake hub, {b.a.upstream_rate / 1e6:.0f} MB/s per request; mirrors on 127.0.0.1; "
             f"release build, `--no-fsync`; load average before the run {b.load:.1f}.", "",
             "| scenario | mirrors | upstream bytes / repo size | slowest mirror | each mirror (s, from upstream / from peers) |",
             "|---|---:|---:|---:|---|"]
    for name, n, rows in results:
        up = sum(r["upstream"] for r in rows) / b.size
        each = ", ".join(f"{r['seconds']:.1f} s ({r['upstream'] / (1 << 30):.2f} / {r['peers'] / (1 << 30):.2f} GiB)" for r in rows)
        lines.append(f"| {name} | {n} | {up:.2f} | {max(r['seconds'] for r in rows):.1f} s | {each} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=2)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--upstream-rate", type=int, default=25_000_000, help="bytes per second per upstream request")
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out", "fleet"))
    ap.add_argument("--write-doc", action="store_true", help="replace the fleet table in Docs/performance.md")
    a = ap.parse_args()
    b = Bench(a)
    b.load = os.getloadavg()[0]
    results = []
    try:
        for n in (1, 2, 4):
            results.append(("one after another", n, b.sequential(n)))
            shutil.rmtree(os.path.join(a.work, "mirrors"), ignore_errors=True)
        for n in (2, 4):
            results.append(("started together (`--advertise`)", n, b.together(n)))
            shutil.rmtree(os.path.join(a.work, "mirrors"), ignore_errors=True)
        results.append(("chain A ← B ← C started together", 3, b.together(3, chain=True)))
        shutil.rmtree(os.path.join(a.work, "mirrors"), ignore_errors=True)
    finally:
        b.stop()
    text = table(b, results)
    alone = results[0][2][0]["seconds"]
    from_peers = results[1][2][1]["seconds"]
    chain = max(r["seconds"] for r in results[-1][2])
    text += (f"\n\nA mirror filling from a peer took {from_peers:.1f} s against {alone:.1f} s from the upstream "
             f"({from_peers / alone:.2f}x); the chain of 3 started together took {chain:.1f} s against {alone:.1f} s "
             f"for one mirror alone ({chain / alone:.2f}x).")
    print(text)
    if a.write_doc:
        path = os.path.join(ROOT, "Docs", "performance.md")
        doc = open(path).read()
        start, end = "<!-- fleet-table -->", "<!-- /fleet-table -->"
        block = f"{start}\n{text}\n{end}"
        if start in doc:
            doc = doc[:doc.index(start)] + block + doc[doc.index(end) + len(end):]
        else:
            doc += "\n## Peer mode: a fleet\n`scripts/bench_fleet.py`, one run:\n\n" + block + "\n"
        open(path, "w").write(doc)


if __name__ == "__main__":
    main()
