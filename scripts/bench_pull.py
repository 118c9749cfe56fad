#!/usr/bin/env python3
"""Pull-through benchmark: how soon a client of an empty `hubmirror serve --upstream` gets its first
byte, and how long the whole file takes, against curl fetching the same file straight from the
upstream. The upstream is the fake hub redirecting to nginx on 127.0.0.1; `--max-rate` on the mirror
stands in for a slow link. Not a test: nothing here asserts.

    scripts/setup.sh --bench && swift build -c release
    .venv/bin/python scripts/bench_pull.py --size-gib 1 --rounds 3 [--rate 50M]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same folder: data generation, nginx, fake hub)

ROOT = bench.ROOT


def curl_times(url):
    """(seconds to the first body byte, seconds in total, bytes) of one GET."""
    out = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-L", "-w",
                          "%{time_starttransfer} %{time_total} %{size_download}", url],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), int(float(out[2]))


def parse_rate(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return float(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else float(text)


def start_serve(bindir, store, upstream, extra):
    p = subprocess.Popen([os.path.join(bindir, "hubmirror"), "serve", "--cache-dir", store, "--port", "0",
                          "--upstream", upstream, "--no-fsync", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"serve did not start: {line!r}")
    return p, line[len("listening on "):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", default=None, help="--max-rate for the mirror's upstream fetch, e.g. 50M")
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out", "pull"))
    a = ap.parse_args()

    size = int(a.size_gib * (1 << 30))
    repo = "bench/pulled"
    data_root = os.path.join(a.work, "www")
    data_dir = os.path.join(data_root, "models", repo)
    name = bench.make_data(data_dir, 1, size)[0]
    os.makedirs(a.work, exist_ok=True)
    nginx, nport = bench.start_nginx(a.work, data_root)
    hub, endpoint = bench.start_fakehub(a.bindir, data_dir, repo, f"http://127.0.0.1:{nport}")
    extra = ["--max-rate", a.rate] if a.rate else []
    rows = {"direct": [], "mirror": []}
    try:
        for r in range(a.rounds):
            first, total, n = curl_times(f"{endpoint}/{repo}/resolve/main/{name}")
            rows["direct"].append((first, total))
            store = os.path.join(a.work, "store")
            shutil.rmtree(store, ignore_errors=True)
            os.makedirs(store)
            serve, mirror = start_serve(a.bindir, store, endpoint, extra)
            try:
                first, total, n = curl_times(f"{mirror}/{repo}/resolve/main/{name}")
                if n != size:
                    raise SystemExit(f"mirror sent {n} bytes, expected {size}")
                rows["mirror"].append((first, total))
            finally:
                serve.terminate()
                serve.wait(timeout=30)
            bench.log(f"round {r + 1}: direct {rows['direct'][-1]}, mirror {rows['mirror'][-1]}")
    finally:
        hub.terminate()
        nginx.terminate()
    d_total = statistics.median(t for _, t in rows["direct"])
    m_first = statistics.median(f for f, _ in rows["mirror"])
    m_total = statistics.median(t for _, t in rows["mirror"])
    print(f"\n{a.size_gib:g} GiB through an empty `serve --upstream`{' at --max-rate ' + a.rate if a.rate else ''}, "
          f"{a.rounds} rounds, medians:")
    print(f"  first byte at the client: {m_first:.2f} s")
    if a.rate:
        print(f"  whole file:               {m_total:.2f} s (the rate limit alone needs {size / parse_rate(a.rate):.2f} s)")
    else:
        print(f"  whole file:               {m_total:.2f} s ({m_total / d_total:.2f}x curl straight from the upstream, {d_total:.2f} s)")


if __name__ == "__main__":
    main()
