#!/usr/bin/env python3
"""Transfer benchmark: hubmirror against its peers on the same local data, in one run.

Generates a repo of large random files, serves the Hub API with `hubmirror-fakehub --serve-dir` and the
bytes with nginx (LFS resolves redirect there, like the Hub's CDN), then runs several rounds of every tool,
the order rotated by one each round: hubmirror sync (every byte verified; default and --no-fsync), curl -o,
aria2c -x8 -Z, aria2c + sha256sum, the official client's snapshot_download, hf_transfer with 16
connections. In the same run it measures the machine's ceilings: dd of the same amount from /dev/zero with
oflag=direct and with conv=fdatasync, and every file fetched in parallel to /dev/null.

Every tool runs under /usr/bin/time (wall, user and system CPU seconds, peak RSS); after each one the
script checks that every file arrived with the right size and SHA-256 (outside the timing) and drops the
tool's result if not. The whole set runs in two variants: with `sync` before each tool (no dirty pages of
the previous tool left to write back) and without. Prints medians. Only loopback addresses are used. Not a
test: nothing here asserts.

    scripts/setup.sh --bench && swift build -c release
    .venv/bin/python scripts/bench.py --size-gib 4 --files 2 --rounds 5 --work $PWD/bench-out [--write-doc]
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(8 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def make_data(data_dir, files, size):
    """Random files of `size` bytes; returns [(name, sha256)] (digests cached beside the data)."""
    os.makedirs(data_dir, exist_ok=True)
    out = []
    for i in range(files):
        name = f"model-{i + 1:05d}-of-{files:05d}.safetensors"
        path = os.path.join(data_dir, name)
        side = os.path.join(os.path.dirname(data_dir), f".{name}.{size}.sha256")
        if not (os.path.exists(path) and os.path.getsize(path) == size and os.path.exists(side)):
            log(f"generating {path} ({size >> 20} MiB)")
            h = hashlib.sha256()
            with open(path, "wb") as f:
                left = size
                while left > 0:
                    b = os.urandom(min(64 << 20, left))
                    h.update(b)
                    f.write(b)
                    left -= len(b)
            open(side, "w").write(h.hexdigest())
        out.append((name, open(side).read().strip()))
    with open(os.path.join(data_dir, "config.json"), "w") as f:
        json.dump({"bench": True, "files": [n for n, _ in out]}, f)
    return out


def start_nginx(work, root):
    conf = os.path.join(work, "nginx.conf")
    os.makedirs(os.path.join(work, "nginx-tmp"), exist_ok=True)
    # Port 0 is not possible with nginx: pick a free loopback port first.
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
    return p, port


def start_fakehub(bindir, data_dir, repo, cdn_base):
    p = subprocess.Popen([os.path.join(bindir, "hubmirror-fakehub"), "--serve-dir", data_dir, "--repo", repo,
                          "--cdn-base", cdn_base, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"fakehub did not start: {line!r}")
    return p, line[len("listening on "):]


class Run:
    def __init__(self, wall, user, sys_, rss_kib, code):
        self.wall, self.user, self.sys, self.rss, self.code = wall, user, sys_, rss_kib, code

    @property
    def cpu(self):
        return self.user + self.sys


def run_timed(cmd, env=None):
    """Runs cmd under /usr/bin/time: wall, user and system seconds, peak RSS (KiB), exit status.

    The figures come from /usr/bin/time, not from this process's wait4: a child forked from this Python
    keeps Python's ru_maxrss across exec when that is larger."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "TIME %e %U %S %M", "-o", tf.name, *cmd], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read().decode(errors="replace")
        code = p.wait()
        wall = time.monotonic() - t0
        fields = [l.split() for l in open(tf.name).read().splitlines() if l.startswith("TIME ")]
    user = sys_ = 0.0
    rss = 0
    if fields:
        _, _, u, s, m = fields[-1]
        user, sys_, rss = float(u), float(s), int(m)
    if code != 0:
        log(f"  ! {' '.join(cmd[:3])}... exited {code}: {err[-500:]}")
    return Run(wall, user, sys_, rss, code)


def find_outputs(d, names):
    """The path of each expected file under d (a flat folder, an HF cache, a hubmirror cache)."""
    found = {}
    for dirpath, _, files in os.walk(d):
        for f in files:
            if f in names and f not in found:
                found[f] = os.path.join(dirpath, f)
    return found


def check_outputs(d, files, size):
    """'ok' when every file is present with the right size and SHA-256, else what is wrong.
    The files are hashed in parallel (hashlib releases the GIL), outside any timing."""
    names = {n for n, _ in files}
    found = find_outputs(d, names)
    paths = {}
    for n, _ in files:
        p = found.get(n)
        if p is None:
            return f"{n} missing"
        real = os.path.realpath(p)
        if os.path.getsize(real) != size:
            return f"{n}: {os.path.getsize(real)} bytes instead of {size}"
        paths[n] = real
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(paths)) as pool:
        digests = dict(zip(paths, pool.map(sha256_file, paths.values())))
    for n, digest in files:
        if digests[n] != digest:
            return f"{n}: wrong SHA-256"
    return "ok"


def resume_figure(bindir, endpoint, repo, total, work):
    cache = os.path.join(work, "resume-cache")
    shutil.rmtree(cache, ignore_errors=True)
    cmd = [os.path.join(bindir, "hubmirror"), "sync", repo, "--endpoint", endpoint, "--cache-dir", cache, "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    journaled = {}
    for line in p.stdout:
        ev = json.loads(line)
        if ev["event"] == "journaled":
            journaled[ev["file"]] = ev["bytes"]
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


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=4)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out"), help="an ABSOLUTE folder (nginx needs one)")
    ap.add_argument("--hubmirror-args", default="", help="extra arguments for hubmirror sync")
    ap.add_argument("--only", default="", help="';'-separated prefixes of the tools to run (tool names hold commas)")
    ap.add_argument("--skip", default="", help="';'-separated prefixes of the tools not to run")
    ap.add_argument("--variants", default="sync,nosync",
                    help="'sync' runs `sync` before each tool, 'nosync' does not; both by default")
    ap.add_argument("--compare-bindir", default=None,
                    help="also run the hubmirror of this build folder (e.g. an older commit's), for an A/B in one run")
    ap.add_argument("--compare-default-only", action="store_true", help="run the baseline in its default mode only")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL=TUNING",
                    help="also run hubmirror (verified) with HUBMIRROR_TUNING=TUNING (e.g. 'w8=window=8M'), for an A/B in one run")
    ap.add_argument("--no-extras", action="store_true", help="skip the resume and rate-limit figures")
    ap.add_argument("--write-doc", action="store_true", help="replace the table in Docs/performance.md")
    ap.add_argument("--serve-only", action="store_true", help="start nginx and the fake hub, print the endpoint, wait")
    ap.add_argument("--from-runs", default=None, metavar="JSONL",
                    help="print the tables of the runs recorded in this bench-runs.jsonl (a run cut short) and exit")
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)
    if a.from_runs:
        recs = [json.loads(l) for l in open(a.from_runs)]
        names = list(dict.fromkeys(r["tool"] for r in recs))
        variants = list(dict.fromkeys(r["variant"] for r in recs))
        runs = {(v, k): [] for v in variants for k in names}
        bad = {}
        for r in recs:
            if r["check"] == "ok":
                runs[(r["variant"], r["tool"])].append(Run(r["wall"], r["user"], r["sys"], r["rss_kib"], 0))
            else:
                bad.setdefault((r["variant"], r["tool"]), []).append(r["check"])
        a.rounds = max(r["round"] for r in recs)
        total = int(a.size_gib * (1 << 30)) // a.files * a.files
        loads = list(dict.fromkeys(r["load"] for r in recs))
        summarize(a, total, names, variants, runs, bad, loads, [])
        return
    # A stopped benchmark still stops nginx and the fake hub (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    total = int(a.size_gib * (1 << 30))
    per_file = total // a.files
    total = per_file * a.files
    data_root = os.path.join(a.work, "www")
    repo = "bench/repo"
    data_dir = os.path.join(data_root, "models", repo)
    files = make_data(data_dir, a.files, per_file)
    names = [n for n, _ in files]
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
    hm = os.path.join(a.bindir, "hubmirror")
    mib = total >> 20

    def aria(d):
        return ["aria2c", "-q", "-Z", "-x8", "-s8", "-j2", "-d", d, "--allow-overwrite=true", "--file-allocation=falloc"] + urls

    # Each tool: (command for a fresh folder d, checks its output?).
    tools = {
        "hubmirror (verified)": (lambda d: [hm, "sync", repo, "--endpoint", endpoint, "--cache-dir", d] + extra, True),
        "hubmirror (verified, --no-fsync)": (lambda d: [hm, "sync", repo, "--endpoint", endpoint, "--cache-dir", d, "--no-fsync"] + extra, True),
        "curl -o": (lambda d: ["curl", "-sS", "--fail"] + sum([["-o", os.path.join(d, n), u] for n, u in zip(names, urls)], []), True),
        "aria2c -x8": (aria, True),
        "aria2c -x8 + sha256sum": (lambda d: ["sh", "-c", " ".join(aria(d)) + f" && sha256sum {d}/* >/dev/null"], True),
        "snapshot_download": (lambda d: [py, "-c", f"from huggingface_hub import snapshot_download; snapshot_download({repo!r}, cache_dir={d!r})"], True),
        "hf_transfer x16": (lambda d: [py, "-c", "import hf_transfer\n" + "\n".join(
            f"hf_transfer.download(url={u!r}, filename={os.path.join(d, n)!r}, max_files=16, chunk_size=10*1024*1024)"
            for n, u in zip(names, urls))], True),
        # Ceilings of the machine, same amount of data.
        "ceiling: dd oflag=direct": (lambda d: ["dd", "if=/dev/zero", f"of={d}/zero", "bs=4M", f"count={mib // 4}", "oflag=direct", "status=none"], False),
        "ceiling: dd conv=fdatasync": (lambda d: ["dd", "if=/dev/zero", f"of={d}/zero", "bs=4M", f"count={mib // 4}", "conv=fdatasync", "status=none"], False),
        "ceiling: parallel fetch to /dev/null": (lambda d: ["curl", "-sS", "--fail", "-Z", "--parallel-max", str(len(urls))]
                                                 + sum([["-o", "/dev/null", u] for u in urls], []), False),
        # CPU floors of a verified download, same amount of data: what no tool that hashes every byte
        # and receives it from a socket can go below on this machine.
        "floor: SHA-256 in memory": (lambda d: [py, "-c", FLOOR_SHA, str(total)], False),
        "floor: receive to memory": (lambda d: [py, "-c", FLOOR_RECV] + urls, False),
    }
    if a.compare_bindir:
        base = os.path.join(a.compare_bindir, "hubmirror")
        tools["hubmirror baseline (verified)"] = (lambda d: [base, "sync", repo, "--endpoint", endpoint, "--cache-dir", d] + extra, True)
        if not a.compare_default_only:
            tools["hubmirror baseline (verified, --no-fsync)"] = (
                lambda d: [base, "sync", repo, "--endpoint", endpoint, "--cache-dir", d, "--no-fsync"] + extra, True)
    tool_env = {}
    for v in a.variant:
        label, tuning = v.split("=", 1)
        name = f"hubmirror [{label}] (verified)"
        tools[name] = (lambda d: [hm, "sync", repo, "--endpoint", endpoint, "--cache-dir", d] + extra, True)
        tool_env[name] = dict(env, HUBMIRROR_TUNING=tuning)
    if a.only:
        keep = a.only.split(";")
        tools = {k: v for k, v in tools.items() if any(k.startswith(x) for x in keep)}
    if a.skip:
        drop = a.skip.split(";")
        tools = {k: v for k, v in tools.items() if not any(k.startswith(x) for x in drop)}
    variants = a.variants.split(",")
    runs = {(v, k): [] for v in variants for k in tools}
    bad = {}
    loads = [loadavg()]
    try:
        for r in range(a.rounds):
            # Variants alternate within each round, so a run cut short still has both.
            for v in variants:
                names_in_order = list(tools)
                shift = r % len(names_in_order)
                order = names_in_order[shift:] + names_in_order[:shift]
                for name in order:
                    cmd, checked = tools[name]
                    d = tempfile.mkdtemp(dir=tmp)
                    if v == "sync":
                        subprocess.run(["sync"])
                    res = run_timed(cmd(d), env=tool_env.get(name, env))
                    verdict = check_outputs(d, files, per_file) if (checked and res.code == 0) else ("ok" if res.code == 0 else f"exit {res.code}")
                    shutil.rmtree(d, ignore_errors=True)
                    if verdict == "ok":
                        runs[(v, name)].append(res)
                    else:
                        bad.setdefault((v, name), []).append(verdict)
                    with open(os.path.join(a.work, "bench-runs.jsonl"), "a") as jl:
                        jl.write(json.dumps({"variant": v, "round": r + 1, "tool": name, "wall": res.wall, "user": res.user,
                                             "sys": res.sys, "rss_kib": res.rss, "check": verdict, "load": loadavg()}) + "\n")
                    log(f"{v} round {r + 1}: {name}: {res.wall:.2f} s wall, {res.user:.2f} user + {res.sys:.2f} sys, "
                        f"peak RSS {res.rss / 1024:.1f} MiB, check: {verdict}")
                loads.append(loadavg())
        extras = []
        if not a.no_extras and "hubmirror (verified)" in tools:
            at_kill, run2, refetched = resume_figure(a.bindir, endpoint, repo, total, a.work)
            extras.append(f"Resume: killed with SIGKILL after {at_kill / (1 << 20):.0f} MiB were journaled; the rerun fetched "
                          f"{run2 / (1 << 20):.0f} MiB, so {max(0, refetched) / (1 << 20):.1f} MiB were fetched twice.")
            # --max-rate: one file at a rate that takes about 8 s; the achieved average is what counts.
            rate = max(1 << 20, per_file // 8)
            d = tempfile.mkdtemp(dir=tmp)
            res = run_timed([hm, "sync", repo, "--endpoint", endpoint, "--cache-dir", d,
                             "--include", names[0], "--max-rate", str(rate), "--no-fsync"], env=env)
            shutil.rmtree(d, ignore_errors=True)
            if res.code == 0:
                got = per_file / res.wall
                extras.append(f"Rate limit: --max-rate {rate / 1e6:.1f} MB/s on one {per_file >> 20} MiB file gave "
                              f"{got / 1e6:.1f} MB/s on average ({(got / rate - 1) * 100:+.1f}%, wall time including start-up).")
    finally:
        hub.terminate()
        nginx.terminate()
        hub.wait()
        nginx.wait()

    summarize(a, total, list(tools), variants, runs, bad, loads, extras)


# SHA-256 (OpenSSL, through hashlib) of argv[1] bytes held in memory, in 1 MiB updates.
FLOOR_SHA = """
import hashlib, sys
n, buf, h = int(sys.argv[1]), bytes(range(256)) * 4096, hashlib.sha256()
for _ in range(n // len(buf)):
    h.update(buf)
"""

# Every URL (plain http) fetched at once, read with 512 KiB recv_into calls into one buffer per file and
# dropped: the socket receive copy and TCP's own work, nothing else.
FLOOR_RECV = """
import socket, sys, threading, urllib.parse
def get(url):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(f"GET {u.path} HTTP/1.1\\r\\nHost: {u.netloc}\\r\\nConnection: close\\r\\n\\r\\n".encode())
    view = memoryview(bytearray(512 << 10))
    while s.recv_into(view):
        pass
ts = [threading.Thread(target=get, args=(url,)) for url in sys.argv[1:]]
for t in ts: t.start()
for t in ts: t.join()
"""


def summarize(a, total, tool_names, variants, runs, bad, loads, extras):
    """The tables of a run: medians per variant and tool, ratios, ceilings."""
    verifies = {"hubmirror (verified)": "SHA-256 + size, fsync", "hubmirror (verified, --no-fsync)": "SHA-256 + size",
                "hubmirror baseline (verified)": "SHA-256 + size, fsync", "hubmirror baseline (verified, --no-fsync)": "SHA-256 + size",
                "aria2c -x8 + sha256sum": "SHA-256 (second pass)", "snapshot_download": "size"}
    out = [f"Data: {a.files} files, {total / (1 << 30):.2f} GiB in all, served from 127.0.0.1 (API: hubmirror-fakehub, bytes: "
           f"nginx); {a.rounds} rounds per variant, order rotated by one each round; {os.cpu_count()} cores; "
           f"load average (1 min) at the start and after each round: {', '.join(loads)}. Every tool's output was checked "
           f"(size and SHA-256 of every file) after it ran; medians of the runs that passed.", ""]
    for v in variants:
        med = {}
        for k in tool_names:
            rs = runs[(v, k)]
            if rs:
                med[k] = {f: statistics.median(getattr(x, f) for x in rs) for f in ("wall", "user", "sys", "cpu")}
                med[k]["rss"] = max(x.rss for x in rs)
                med[k]["n"] = len(rs)
        peers = {k: m for k, m in med.items() if not k.startswith(("hubmirror", "ceiling", "floor"))}
        fastest = min((m["wall"] for m in peers.values()), default=None)
        ref = {k: med[k]["cpu"] for k in ("aria2c -x8", "curl -o") if k in med}
        title = "with `sync` before each tool" if v == "sync" else "without `sync` before each tool"
        out += [f"**{title}**", "",
                "| tool | wall (s) | MB/s | wall / fastest peer | user (s) | sys (s) | CPU (s) | CPU / aria2c | CPU / curl | peak RSS (MiB) | verifies | runs |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
        for k, m in sorted(med.items(), key=lambda kv: (kv[0].startswith(("ceiling", "floor")), kv[0].startswith("floor"), kv[1]["wall"])):
            machine = k.startswith(("ceiling", "floor"))
            ratio = f"{m['wall'] / fastest:.2f}" if fastest and not machine else ""
            ra = f"{m['cpu'] / ref['aria2c -x8']:.2f}" if "aria2c -x8" in ref and not k.startswith("ceiling") else ""
            rc = f"{m['cpu'] / ref['curl -o']:.2f}" if "curl -o" in ref and not k.startswith("ceiling") else ""
            ver = "" if machine else verifies.get(k, "SHA-256 + size, fsync" if k.startswith("hubmirror") else "nothing")
            out.append(f"| {k} | {m['wall']:.2f} | {total / m['wall'] / 1e6:.0f} | {ratio} | {m['user']:.2f} | {m['sys']:.2f} | "
                       f"{m['cpu']:.2f} | {ra} | {rc} | {m['rss'] / 1024:.1f} | {ver} | {m['n']} |")
        failed = {k: vs for (vv, k), vs in bad.items() if vv == v}
        if failed:
            out += ["", "Runs dropped: " + "; ".join(f"{k}: {', '.join(vs)}" for k, vs in failed.items())]
        ceilings = [m["wall"] for k, m in med.items() if k.startswith("ceiling: dd oflag") or k.startswith("ceiling: parallel")]
        hub_rows = {k: m for k, m in med.items() if k.startswith("hubmirror (") or k.startswith("hubmirror [")}
        if ceilings and hub_rows:
            low = total / max(ceilings) / 1e6
            out += ["", f"Lower of the two ceilings (direct write, parallel fetch): {low:.0f} MB/s; " + "; ".join(
                f"{k}: {total / m['wall'] / 1e6:.0f} MB/s = {total / m['wall'] / 1e6 / low:.2f}× of it" for k, m in hub_rows.items()) + "."]
        floors = [m["cpu"] for k, m in med.items() if k.startswith("floor")]
        if len(floors) == 2 and ref:
            f = sum(floors)
            out += ["", f"CPU floor of a verified download (SHA-256 + receive, the two floor rows): {f:.2f} s = " + "; ".join(
                f"{f / c:.2f}× {k}" for k, c in ref.items()) + "."]
        out.append("")
    out += extras
    table = "\n".join(out).rstrip()
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
