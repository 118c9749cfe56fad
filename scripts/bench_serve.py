#!/usr/bin/env python3
"""Serving benchmark: aggregate throughput of N parallel clients downloading from `hubmirror serve`
against nginx serving the very same blob files, in one run, alternating. Clients are `curl -o /dev/null`
(so the clients' disks are not what is measured) on 127.0.0.1. Not a test: nothing here asserts.

    scripts/setup.sh --bench && swift build -c release
    .venv/bin/python scripts/bench_serve.py --size-gib 2 --files 4 --clients 8 --rounds 3 [--write-doc]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same folder: data generation, nginx, fake hub)

ROOT = bench.ROOT


def parallel_curl(urls, clients):
    """Starts `clients` curls at once, each fetching urls[i % len]; returns (seconds, bytes)."""
    t0 = time.monotonic()
    procs = [subprocess.Popen(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", urls[i % len(urls)]],
                              stdout=subprocess.PIPE, text=True) for i in range(clients)]
    total = 0
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"curl failed ({p.returncode})")
        total += int(float(out.strip() or 0))
    return time.monotonic() - t0, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=2)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out", "serve"))
    ap.add_argument("--write-doc", action="store_true")
    a = ap.parse_args()

    per_file = int(a.size_gib * (1 << 30)) // a.files
    repo = "bench/served"
    data_root = os.path.join(a.work, "www")
    data_dir = os.path.join(data_root, "models", repo)
    names = bench.make_data(data_dir, a.files, per_file)
    os.makedirs(a.work, exist_ok=True)
    nginx, nport = bench.start_nginx(a.work, data_root)
    hub, endpoint = bench.start_fakehub(a.bindir, data_dir, repo, f"http://127.0.0.1:{nport}")
    store = os.path.join(a.work, "store")
    shutil.rmtree(store, ignore_errors=True)
    serve = None
    try:
        subprocess.run([os.path.join(a.bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", store, "--no-fsync"],
                       check=True, stdout=subprocess.DEVNULL)
        serve = subprocess.Popen([os.path.join(a.bindir, "hubmirror"), "serve", "--cache-dir", store, "--port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = serve.stdout.readline().strip()
        mirror = line[len("listening on "):]
        # nginx serves the same bytes from the mirror's own blob files.
        blobs_root = os.path.join(a.work, "blobs-www")
        shutil.rmtree(blobs_root, ignore_errors=True)
        os.makedirs(blobs_root)
        os.symlink(os.path.join(store, "models--bench--served", "blobs"), os.path.join(blobs_root, "blobs"))
        n2 = os.path.join(a.work, "nginx-blobs")
        os.makedirs(n2, exist_ok=True)
        nginx2, nport2 = bench.start_nginx(n2, blobs_root)
        snap = os.path.join(store, "models--bench--served", "snapshots")
        commit = os.listdir(snap)[0]
        etags = [os.path.basename(os.readlink(os.path.join(snap, commit, n))) for n in names]
        tools = {
            "hubmirror serve": [f"{mirror}/{repo}/resolve/main/{n}" for n in names],
            "nginx": [f"http://127.0.0.1:{nport2}/blobs/{e}" for e in etags],
        }
        results = {k: [] for k in tools}
        for r in range(a.rounds):
            for name in (list(tools) if r % 2 == 0 else list(reversed(tools))):
                dt, nbytes = parallel_curl(tools[name], a.clients)
                results[name].append(nbytes / dt)
                print(f"round {r + 1}: {name}: {nbytes / dt / 1e6:.0f} MB/s", file=sys.stderr, flush=True)
        nginx2.terminate()
        nginx2.wait()
    finally:
        if serve:
            serve.terminate()
            serve.wait()
        hub.terminate()
        nginx.terminate()
        hub.wait()
        nginx.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    lines = [f"{a.clients} parallel `curl -o /dev/null` clients, each downloading one of {a.files} files of {per_file >> 20} MiB "
             f"({a.clients * per_file / (1 << 30):.1f} GiB per round), {a.rounds} rounds alternating, 127.0.0.1, {os.cpu_count()} cores.", "",
             "| server | median aggregate MB/s | ratio to nginx |", "|---|---:|---:|"]
    for k, v in sorted(med.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {v / 1e6:.0f} | {v / med['nginx']:.2f} |")
    table = "\n".join(lines)
    print(table)
    if a.write_doc:
        doc = os.path.join(ROOT, "Docs", "performance.md")
        text = open(doc).read()
        start, end = "<!-- serve:start -->", "<!-- serve:end -->"
        i, j = text.index(start) + len(start), text.index(end)
        open(doc, "w").write(text[:i] + "\n" + table + "\n" + text[j:])


if __name__ == "__main__":
    main()
