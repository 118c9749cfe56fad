#!/usr/bin/env python3
"""Transfer benchmark: hubmirror against its peers on the same local data, in one run.

Generates a repo of large random files, serves the Hub API with `hubmirror-fakehub --serve-dir` and the
bytes with nginx (LFS resolves redirect there, like the Hub's CDN), then runs, alternating, several rounds
of: hubmirror sync (every byte verified), curl -o, aria2c -x8, aria2c -x8 + sha256sum, the official
client's snapshot_download, and hf_transfer.download with 16 connections. Prints the median wall time,
MB/s and each tool's ratio to the fastest peer, hubmirror's peak RSS, and a resume figure (kill -9 at ~50%,
rerun: bytes fetched twice). Only loopback addresses are used. Not a test: nothing here asserts.

    scripts/setup.sh --bench && swift build -c release
    .venv/bin/python scripts/bench.py --size-gib 4 --files 2 --rounds 3 [--write-doc]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_data(data_dir, files, size):
    os.makedirs(data_dir, exist_ok=True)
    names = []
    for i in range(files):
        name = f"model-{i + 1:05d}-of-{files:05d}.safetensors"
        path = os.path.join(data_dir, name)
        names.append(name)
        if os.path.exists(path) and os.path.getsize(path) == size:
            continue
        log(f"generating {path} ({size >> 20} MiB)")
        with open(path, "wb") as f:
            left = size
            block = 64 << 20
            while left > 0:
                n = min(block, left)
                f.write(os.urandom(n))
                left -= n
    with open(os.path.join(data_dir, "config.json"), "w") as f:
        json.dump({"bench": True, "files": names}, f)
    return names


def start_nginx(work, root):
    conf = os.path.join(work, "nginx.conf")
    port_file = os.path.join(work, "nginx.port")
    # Port 0 is not possible with nginx: pick a free loopback port first.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/nginx-tmp;
    proxy_temp_path {work}/nginx-tmp;
    fastcgi_temp_path {work}/nginx-tmp;
    uwsgi_temp_path {work}/nginx-tmp;
    scgi_temp_path {work}/nginx-tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    with open(port_file, "w") as f:
        f.write(str(port))
    return p, port


def start_fakehub(bindir, data_dir, repo, cdn_base):
    p = subprocess.Popen([os.path.join(bindir, "hubmirror-fakehub"), "--serve-dir", data_dir, "--repo", repo,
                          "--cdn-base", cdn_base, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"fakehub did not start: {line!r}")
    return p, line[len("listening on "):]


def run_timed(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in KiB, exit status).

    The peak RSS comes from /usr/bin/time: the rusage of a child forked from this Python process
    would report Python's own size when that is larger (ru_maxrss survives exec)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, _ = os.wait4(p.pid, 0)
        dt = time.monotonic() - t0
        err = p.stderr.read().decode(errors="replace")
        code = os.waitstatus_to_exitcode(status)
        lines = [l for l in open(rss.name).read().split() if l.isdigit()]
        maxrss = int(lines[-1]) if lines else 0
    if code != 0:
        log(f"  ! {' '.join(cmd[:3])}... exited {code}: {err[-500:]}")
    return dt, maxrss, code


def resume_figure(bindir, endpoint, repo, total, work):
    cache = os.path.join(work, "resume-cache")
    shutil.rmtree(cache, ignore_errors=True)
    cmd = [os.path.join(bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", cache, "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    journaled = {}
    received_run1 = 0
    for line in p.stdout:
        ev = json.loads(line)
        if ev["event"] == "journaled":
            journaled[ev["file"]] = ev["bytes"]
        if ev["event"] == "progress":
            received_run1 = ev["received"]
        if sum(journaled.values()) >= total // 2:
            os.kill(p.pid, signal.SIGKILL)
            break
    p.wait()
    at_kill = sum(journaled.values())
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    summary = [json.loads(l) for l in out.splitlines() if '"summary"' in l]
    received_run2 = summary[-1]["bytesReceived"] if summary else -1
    refetched = received_run2 - (total - at_kill)
    shutil.rmtree(cache, ignore_errors=True)
    return at_kill, received_run2, refetched


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=4)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--hubmirror-args", default="", help="extra arguments for hubmirror sync")
    ap.add_argument("--only", default="", help="comma-separated tool names to run")
    ap.add_argument("--compare-bindir", default=None,
                    help="also run the hubmirror of this build folder (e.g. an older commit's), for an A/B in one run")
    ap.add_argument("--write-doc", action="store_true", help="replace the table in Docs/performance.md")
    ap.add_argument("--serve-only", action="store_true", help="start nginx and the fake hub, print the endpoint, wait")
    a = ap.parse_args()

    total = int(a.size_gib * (1 << 30))
    per_file = total // a.files
    total = per_file * a.files
    data_root = os.path.join(a.work, "www")
    repo = "bench/repo"
    data_dir = os.path.join(data_root, "models", repo)
    names = make_data(data_dir, a.files, per_file)
    tmp = os.path.join(a.work, "tmp")
    os.makedirs(tmp, exist_ok=True)
    nginx, nport = start_nginx(a.work, data_root)
    cdn = f"http://127.0.0.1:{nport}"
    hub, endpoint = start_fakehub(a.bindir, data_dir, repo, cdn)
    urls = [f"{cdn}/models/{repo}/{n}" for n in names]
    if a.serve_only:
        print(endpoint, flush=True)
        try:
            hub.wait()
        finally:
            nginx.terminate()
        return
    py = sys.executable
    env = dict(os.environ, HF_ENDPOINT=endpoint, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    extra = a.hubmirror_args.split()

    def dest():
        d = tempfile.mkdtemp(dir=tmp)
        return d

    tools = {
        "hubmirror (verified)": lambda d: [os.path.join(a.bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint,
                                           "--cache-dir", d] + extra,
        "hubmirror (verified, --no-fsync)": lambda d: [os.path.join(a.bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint,
                                                       "--cache-dir", d, "--no-fsync"] + extra,
        "curl -o": lambda d: ["curl", "-sS", "--fail"] + sum([["-o", os.path.join(d, n), u] for n, u in zip(names, urls)], []),
        "aria2c -x8": lambda d: ["aria2c", "-q", "-x8", "-s8", "-j2", "-d", d, "--allow-overwrite=true"] + urls,
        "aria2c -x8 + sha256sum": lambda d: ["sh", "-c", f"aria2c -q -x8 -s8 -j2 -d {d} --allow-overwrite=true {' '.join(urls)} && sha256sum {d}/* >/dev/null"],
        "snapshot_download": lambda d: [py, "-c", f"from huggingface_hub import snapshot_download; snapshot_download({repo!r}, cache_dir={d!r})"],
        "hf_transfer x16": lambda d: [py, "-c", "import hf_transfer, sys\n" + "\n".join(
            f"hf_transfer.download(url={u!r}, filename={os.path.join(d, n)!r}, max_files=16, chunk_size=10*1024*1024)" for n, u in zip(names, urls))],
    }
    if a.compare_bindir:
        tools["hubmirror baseline (verified, --no-fsync)"] = lambda d: [
            os.path.join(a.compare_bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", d, "--no-fsync"] + extra
    if a.only:
        keep = a.only.split(",")
        tools = {k: v for k, v in tools.items() if any(k.startswith(x) for x in keep)}
    times = {k: [] for k in tools}
    rss = []
    try:
        for r in range(a.rounds):
            order = list(tools) if r % 2 == 0 else list(reversed(tools))
            for name in order:
                d = dest()
                dt, maxrss, code = run_timed(tools[name](d), env=env)
                shutil.rmtree(d, ignore_errors=True)
                if code == 0:
                    times[name].append(dt)
                    if name.startswith("hubmirror"):
                        rss.append(maxrss)
                log(f"round {r + 1}: {name}: {dt:.2f} s, peak RSS {maxrss / 1024:.1f} MiB")
        at_kill, run2, refetched = resume_figure(a.bindir, endpoint, repo, total, a.work) if "hubmirror (verified)" in tools else (0, 0, 0)
        rate_line = ""
        if "hubmirror (verified)" in tools:
            # --max-rate: one file at a rate that takes about 8 s; the achieved average is what counts.
            rate = max(1 << 20, per_file // 8)
            d = dest()
            dt, _, code = run_timed([os.path.join(a.bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", d,
                                     "--include", names[0], "--max-rate", str(rate), "--no-fsync"], env=env)
            shutil.rmtree(d, ignore_errors=True)
            if code == 0:
                got = per_file / dt
                rate_line = (f"Rate limit: --max-rate {rate / 1e6:.1f} MB/s on one {per_file >> 20} MiB file gave "
                             f"{got / 1e6:.1f} MB/s on average ({(got / rate - 1) * 100:+.1f}%, wall time including start-up).")
    finally:
        hub.terminate()
        nginx.terminate()
        hub.wait()
        nginx.wait()

    med = {k: statistics.median(v) for k, v in times.items() if v}
    peers = [v for k, v in med.items() if not k.startswith("hubmirror")]
    fastest = min(peers) if peers else min(med.values())
    lines = [f"Data: {a.files} files, {total / (1 << 30):.2f} GiB in all, served from 127.0.0.1 (API: hubmirror-fakehub, bytes: nginx); "
             f"{a.rounds} rounds, alternating order; {os.cpu_count()} cores.", "",
             "| tool | median wall (s) | MB/s | ratio to fastest peer | verifies |", "|---|---:|---:|---:|---|"]
    verifies = {"hubmirror (verified)": "SHA-256 + size, fsync before publishing", "hubmirror (verified, --no-fsync)": "SHA-256 + size",
                "aria2c -x8 + sha256sum": "SHA-256 (second pass)"}
    for k, v in sorted(med.items(), key=lambda kv: kv[1]):
        lines.append(f"| {k} | {v:.2f} | {total / v / 1e6:.0f} | {v / fastest:.2f} | {verifies.get(k, 'size only' if k == 'snapshot_download' else 'nothing')} |")
    lines.append("")
    if rss:
        lines.append(f"hubmirror peak RSS: {max(rss) / 1024:.1f} MiB (max over rounds).")
    if "hubmirror (verified)" in tools:
        lines.append(f"Resume: killed with SIGKILL after {at_kill / (1 << 20):.0f} MiB were journaled; the rerun fetched "
                     f"{run2 / (1 << 20):.0f} MiB, so {max(0, refetched) / (1 << 20):.1f} MiB were fetched twice.")
    if rate_line:
        lines.append(rate_line)
    table = "\n".join(lines)
    print(table)
    if a.write_doc:
        doc = os.path.join(ROOT, "Docs", "performance.md")
        text = open(doc).read()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        i, j = text.index(start) + len(start), text.index(end)
        text = text[:i] + "\n" + table + "\n" + text[j:]
        open(doc, "w").write(text)
        log(f"updated {doc}")


if __name__ == "__main__":
    main()
