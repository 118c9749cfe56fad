#!/usr/bin/env python3
"""Load benchmark of `hubmirror serve` for the metadata requests a training job's start-up sends
(issue #13): revision info, HEAD and GET of a small file, GET of a 1 MiB file, each against `/healthz`
of the same server and nginx serving the same blob file; revision info and the small GET again from a
second server over the same store with the store watch off (`HUBMIRROR_SERVE_WATCH=0`); then revision
info and a resolve while `sync` publishes new revisions. Server CPU per request is the CPU time of the
server process during a row over the answers it gave. Every answer is checked by the wrk script (status, body, `X-Repo-Commit`), and a
rate is only reported with zero wrong answers counted next to it. Not a test: nothing here asserts.

    scripts/setup.sh --bench && swift build -c release
    .venv/bin/python scripts/bench_load.py [--duration 10] [--connections 64] [--runs 3] [--bindir DIR] [--write-doc]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same folder: nginx, fake hub)

ROOT = bench.ROOT
REPO = "acme/tiny-gpt2"
WATCH_OFF = "`HUBMIRROR_SERVE_WATCH=0`"

# One wrk script for every run: each request is drawn from REQUESTS (set per run), each answer is
# checked against what that request must get. Counts are per thread, summed in done().
LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end

local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s end
local spec = dofile(os.getenv("BENCH_SPEC"))
local bodies = {}
for commit, path in pairs(spec.bodies or {}) do bodies[commit] = slurp(path) end
local i = 0
good, bad, old, new = 0, 0, 0, 0
local current

function request()
  i = i % #spec.requests + 1
  current = spec.requests[i]
  return wrk.format(current.method, current.path)
end

local function header(headers, name)
  for k, v in pairs(headers) do if string.lower(k) == name then return v end end
end

function response(status, headers, body)
  -- wrk keeps no state per connection: with several kinds of request in flight, an answer is told
  -- apart by itself (a file answer carries X-Repo-Commit, revision info does not).
  local kind = current.kind
  if kind == "info" or kind == "resolve" then kind = header(headers, "x-repo-commit") and "resolve" or "info" end
  local ok = status == current.status
  if ok and kind == "exact" then
    ok = body == current.body or (current.method == "HEAD" and body == "")
    if ok and current.length then ok = header(headers, "content-length") == current.length end
  elseif ok and kind == "info" then
    -- Revision info: the sha is one of the published commits, and the file list is that commit's.
    local sha = string.match(body, '"sha":"(%x+)"')
    local c = sha and spec.commits[sha]
    ok = c ~= nil and (string.find(body, c.marker, 1, true) ~= nil) == c.has_marker
    if ok then if c.is_new then new = new + 1 else old = old + 1 end end
  elseif ok and kind == "resolve" then
    -- A file: its bytes are those of the commit X-Repo-Commit names.
    local sha = header(headers, "x-repo-commit")
    ok = sha ~= nil and bodies[sha] ~= nil and body == bodies[sha]
  end
  if ok then good = good + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local g, b, o, n = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good"); b = b + t:get("bad"); o = o + t:get("old"); n = n + t:get("new")
  end
  io.write(string.format("RESULT good=%d bad=%d old=%d new=%d p99_us=%d errors=%d\n", g, b, o, n,
    latency:percentile(99), summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout))
end
"""


def lua_str(s):
    return '"' + "".join(c if c.isalnum() or c in "/-_.:" else f"\\{ord(c):03d}" for c in s) + '"'


def write_spec(path, requests, commits=None, bodies=None):
    """A Lua table the wrk script loads: the requests to cycle through and what each must get."""
    out = ["return {", " requests = {"]
    for r in requests:
        fields = [f"method = {lua_str(r['method'])}", f"path = {lua_str(r['path'])}", f"status = {r.get('status', 200)}",
                  f"kind = {lua_str(r['kind'])}"]
        if "body_file" in r:
            fields.append(f"body = (function() local f = assert(io.open({lua_str(r['body_file'])}, 'rb')); local s = f:read('*a'); f:close(); return s end)()")
        if "length" in r:
            fields.append(f"length = {lua_str(str(r['length']))}")
        out.append("  { " + ", ".join(fields) + " },")
    out.append(" },")
    out.append(" commits = {")
    for sha, c in (commits or {}).items():
        out.append(f"  [{lua_str(sha)}] = {{ marker = {lua_str(c['marker'])}, has_marker = {str(c['has_marker']).lower()}, "
                   f"is_new = {str(c['is_new']).lower()} }},")
    out.append(" },")
    out.append(" bodies = {")
    for sha, p in (bodies or {}).items():
        out.append(f"  [{lua_str(sha)}] = {lua_str(p)},")
    out.append(" },")
    out.append("}")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def cpu_seconds(pid):
    """User + system CPU of a process and its children alive now (nginx's worker)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        kids = []
    return own + sum(cpu_seconds(k) for k in kids)


def wrk(work, name, base, requests, a, pid=None, commits=None, bodies=None):
    spec = os.path.join(work, f"spec-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua")
    write_spec(spec, requests, commits, bodies)
    script = os.path.join(work, "check.lua")
    with open(script, "w") as f:
        f.write(LUA)
    cpu0 = cpu_seconds(pid) if pid else None
    p = subprocess.run(["wrk", "-t2", f"-c{a.connections}", f"-d{a.duration}s", "--latency", "-s", script, base],
                       env={**os.environ, "BENCH_SPEC": spec}, capture_output=True, text=True)
    cpu = cpu_seconds(pid) - cpu0 if pid else None
    if p.returncode != 0:
        raise SystemExit(f"wrk failed for {name}: {p.stderr}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", p.stdout).group(1))
    m = re.search(r"RESULT good=(\d+) bad=(\d+) old=(\d+) new=(\d+) p99_us=(\d+) errors=(\d+)", p.stdout)
    good, bad, old, new, p99, errors = (int(x) for x in m.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    r = {"name": name, "rate": rate, "p99_ms": p99 / 1000, "good": good, "bad": bad, "old": old, "new": new,
         "errors": errors + (int(non2xx.group(1)) if non2xx else 0), "cpu": cpu}
    bench.log(f"{name}: {rate:.0f} req/s, p99 {r['p99_ms']:.2f} ms, {good} checked, {bad} wrong, {r['errors']} errors"
              + (f", server CPU {cpu:.2f} s" if cpu is not None else ""))
    return r


# wrk cannot send HEAD (it waits for the body that Content-Length announces), and `ab -i -k` hangs the same
# way, so HEAD rows use this small epoll client, compiled at run time with the system's C compiler: kept-alive
# connections, one request in flight on each, every answer checked; each HEAD row has its own `/healthz` row.
HEADLOAD_C = r"""
// HEAD load generator for bench_load.py (wrk cannot send HEAD: it waits for the announced body).
// headload PORT PATH CONNECTIONS SECONDS EXPECTED_LINES_FILE
// Keeps CONNECTIONS kept-alive connections to 127.0.0.1:PORT, each sending `HEAD PATH` again as soon as
// the answer's header block has arrived, for SECONDS. Every answer is checked: the status line and every
// line of EXPECTED_LINES_FILE present, and as many header lines as expected (Date and X-Request-Id,
// which differ per answer, not counted). Prints one line: RESULT n=.. bad=.. errors=.. p99_us=.. rate=..
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; char buf[8192]; int len; double sent; } conn;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static char *expected[64]; static int nexpected, wantlines; static char req[2048]; static int reqlen;

static int check(char *block, int len) {
    block[len] = 0;
    int lines = 0;
    for (char *p = strstr(block, "\r\n"); p && p + 2 < block + len; p = strstr(p + 2, "\r\n")) {
        if (p[2] == '\r') break;
        if (strncasecmp(p + 2, "date:", 5) && strncasecmp(p + 2, "x-request-id:", 13)) lines++;
    }
    if (lines != wantlines) return 0;
    if (nexpected && strncmp(block, expected[0], strlen(expected[0]))) return 0;
    for (int i = 1; i < nexpected; i++) if (!strstr(block, expected[i])) return 0;
    return 1;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(2); }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: headload PORT PATH CONNECTIONS SECONDS EXPECTED\n"); return 64; }
    int port = atoi(argv[1]), n = atoi(argv[3]); double secs = atof(argv[4]);
    FILE *f = fopen(argv[5], "r"); char line[1024];
    if (!f) { perror(argv[5]); return 2; }
    while (fgets(line, sizeof line, f) && nexpected < 64) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        char *e = malloc(strlen(line) + 5); sprintf(e, "%s\r\n", line);   // first line: the status line
        if (nexpected) { sprintf(e, "\r\n%s\r\n", line); wantlines++; }
        expected[nexpected++] = e;
    }
    fclose(f);
    reqlen = snprintf(req, sizeof req, "HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: headload\r\n\r\n", argv[2], port);
    int ep = epoll_create1(0);
    conn *c = calloc(n, sizeof *c);
    size_t cap = 1 << 20, count = 0; double *lat = malloc(cap * sizeof *lat);
    long bad = 0, errors = 0;
    double start = now(), end = start + secs;
    for (int i = 0; i < n; i++) {
        c[i].fd = dial(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
        c[i].sent = now();
        if (write(c[i].fd, req, reqlen) != reqlen) errors++;
    }
    struct epoll_event evs[256];
    int open = n;
    while (open > 0) {
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { errors += open; break; }   // a second without any answer
        for (int j = 0; j < k; j++) {
            conn *x = &c[evs[j].data.u32];
            int r = read(x->fd, x->buf + x->len, sizeof x->buf - 1 - x->len);
            if (r <= 0) { errors++; close(x->fd); x->fd = -1; open--; continue; }
            x->len += r; x->buf[x->len] = 0;
            char *endh = strstr(x->buf, "\r\n\r\n");
            if (!endh) { if (x->len >= (int)sizeof x->buf - 1) { errors++; close(x->fd); x->fd = -1; open--; } continue; }
            int blen = endh + 4 - x->buf;
            double t = now();
            if (count == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
            lat[count++] = t - x->sent;
            if (blen != x->len || !check(x->buf, blen)) bad++;
            x->len = 0;
            if (t >= end) { close(x->fd); x->fd = -1; open--; continue; }
            x->sent = t;
            if (write(x->fd, req, reqlen) != reqlen) { errors++; close(x->fd); x->fd = -1; open--; }
        }
    }
    double took = now() - start;
    qsort(lat, count, sizeof *lat, cmp);
    double p99 = count ? lat[(size_t)(count * 0.99)] : 0;
    printf("RESULT n=%zu bad=%ld errors=%ld p99_us=%.0f rate=%.1f\n", count, bad, errors, p99 * 1e6, count / took);
    return 0;
}
"""


def head_load(work, name, base, path, a, pid):
    """HEAD `path` on `a.connections` connections for `a.duration` s; each answer must have the status line and
    headers (all but Date and X-Request-Id) of the answer curl gets first."""
    binary = os.path.join(work, "headload")
    if not os.path.exists(binary):
        src = os.path.join(work, "headload.c")
        with open(src, "w") as f:
            f.write(HEADLOAD_C)
        subprocess.run(["cc", "-O2", "-o", binary, src], check=True)
    head = subprocess.run(["curl", "-sS", "-I", base + path], capture_output=True, text=True, check=True).stdout
    lines = [l for l in head.replace("\r", "").split("\n") if l and not l.lower().startswith(("date:", "x-request-id:"))]
    expected = os.path.join(work, f"head-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.txt")
    with open(expected, "w") as f:
        f.write("\n".join(lines) + "\n")
    port = base.rsplit(":", 1)[1]
    cpu0 = cpu_seconds(pid)
    p = subprocess.run([binary, port, path, str(a.connections), str(a.duration), expected], capture_output=True, text=True)
    cpu = cpu_seconds(pid) - cpu0
    m = re.search(r"RESULT n=(\d+) bad=(\d+) errors=(\d+) p99_us=(\d+) rate=([\d.]+)", p.stdout)
    if not m:
        raise SystemExit(f"headload failed for {name}: {p.stdout} {p.stderr}")
    n, bad, errors, p99, rate = int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])
    r = {"name": name, "rate": rate, "p99_ms": p99 / 1000, "good": n - bad, "bad": bad, "old": 0, "new": 0,
         "errors": errors, "cpu": cpu}
    bench.log(f"{name}: {rate:.0f} req/s, p99 {r['p99_ms']:.2f} ms, {n - bad} checked, {bad} wrong, {errors} errors, server CPU {cpu:.2f} s")
    return r


def interleaved(measure, rows, a):
    """Runs `measure(row, a_slice)` for every row in turn, `a.slices` times, each for `a.duration / a.slices`
    seconds, so that every row (and its `/healthz` row) sees the same background load on a shared machine.
    Per row: the mean rate, the worst p99 of its slices, and the sums of answers, errors and server CPU."""
    part = argparse.Namespace(**{**vars(a), "duration": max(1, round(a.duration / a.slices))})
    merged = {}
    for _ in range(a.slices):
        for row in rows:
            r = measure(row, part)
            m = merged.setdefault(r["name"], {**r, "rate": 0.0, "p99_ms": 0.0, "good": 0, "bad": 0, "old": 0, "new": 0,
                                               "errors": 0, "cpu": 0.0})
            m["rate"] += r["rate"] / a.slices
            m["p99_ms"] = max(m["p99_ms"], r["p99_ms"])
            for k in ("good", "bad", "old", "new", "errors", "cpu"):
                m[k] += r[k]
    return [merged[name] for name in dict.fromkeys(row[0] for row in rows)]


def make_repo(folder, variant):
    """A small model repo like the ones training jobs read at start-up; `variant` changes config.json and
    adds a file, so two variants are two commits whose answers differ."""
    os.makedirs(folder, exist_ok=True)
    config = {"architectures": ["GPT2LMHeadModel"], "n_embd": 32, "n_layer": 2, "n_head": 2, "vocab_size": 1000,
              "variant": variant, "padding": "x" * 600}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer"}, f)
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 1 << 20}, "weight_map": {f"h.{i}.w": "weights.bin" for i in range(40)}}, f)
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(bytes((i * 31 + 7) % 251 for i in range(1 << 20)))
    if variant > 0:
        with open(os.path.join(folder, f"added-{variant}.txt"), "w") as f:
            f.write(f"added in variant {variant}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--bindir", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, "bench-out", "load"))
    ap.add_argument("--slices", type=int, default=5, help="each row runs in this many turns, interleaved with the others")
    ap.add_argument("--runs", type=int, default=1, help="repeat the whole set; the run begun at the lowest load is reported")
    ap.add_argument("--write-doc", action="store_true")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: scripts/setup.sh --bench")
    hubmirror = os.path.join(a.bindir, "hubmirror")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    data = [os.path.join(a.work, f"data-{v}") for v in (0, 1)]
    for v, d in enumerate(data):
        make_repo(d, v)
    hubs = [bench.start_fakehub(a.bindir, d, REPO, "http://127.0.0.1:9") for d in data]
    store = os.path.join(a.work, "store")
    procs = [h for h, _ in hubs]
    try:
        def sync(endpoint):
            subprocess.run([hubmirror, "sync", REPO, "--endpoint", endpoint, "--cache-dir", store, "--no-fsync"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        sync(hubs[1][1])   # the second commit's snapshot is in the store already; main then moves back
        sync(hubs[0][1])
        repo_dir = os.path.join(store, "models--" + REPO.replace("/", "--"))
        old_sha = open(os.path.join(repo_dir, "refs", "main")).read().strip()
        new_sha = [s for s in os.listdir(os.path.join(repo_dir, "snapshots")) if s != old_sha][0]
        snap = os.path.join(repo_dir, "snapshots", old_sha)
        etag = {n: os.path.basename(os.readlink(os.path.join(snap, n))) for n in ("config.json", "weights.bin")}
        config_path = os.path.join(data[0], "config.json")
        weights_path = os.path.join(data[0], "weights.bin")

        serve = subprocess.Popen([hubmirror, "serve", "--cache-dir", store, "--port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(serve)
        mirror = serve.stdout.readline().strip()[len("listening on "):]
        # The same store served with the store watch off: kept answers checked against the store per request.
        unwatched = subprocess.Popen([hubmirror, "serve", "--cache-dir", store, "--port", "0"],
                                     env={**os.environ, "HUBMIRROR_SERVE_WATCH": "0"},
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(unwatched)
        mirror_unwatched = unwatched.stdout.readline().strip()[len("listening on "):]
        nginx, nport = bench.start_nginx(a.work, os.path.join(repo_dir))
        procs.append(nginx)
        ngx = f"http://127.0.0.1:{nport}"

        info_new_marker = '"rfilename":"added-1.txt"'
        commits = {old_sha: {"marker": info_new_marker, "has_marker": False, "is_new": False},
                   new_sha: {"marker": info_new_marker, "has_marker": True, "is_new": True}}
        healthz = [{"method": "GET", "path": "/healthz", "kind": "exact", "body_file": write_tmp(a.work, "ok", b"ok")}]
        runs = [
            ("GET /healthz", mirror, healthz, serve.pid),
            ("GET revision info", mirror, [{"method": "GET", "path": f"/api/models/{REPO}/revision/main", "kind": "info"}], serve.pid, commits),
            ("GET config.json", mirror, [{"method": "GET", "path": f"/{REPO}/resolve/main/config.json", "kind": "exact",
                                          "body_file": config_path}], serve.pid),
            ("GET weights.bin (1 MiB)", mirror, [{"method": "GET", "path": f"/{REPO}/resolve/main/weights.bin", "kind": "exact",
                                                  "body_file": weights_path}], serve.pid),
            ("nginx GET config.json", ngx, [{"method": "GET", "path": f"/blobs/{etag['config.json']}", "kind": "exact",
                                             "body_file": config_path}], nginx.pid),
            ("nginx GET weights.bin (1 MiB)", ngx, [{"method": "GET", "path": f"/blobs/{etag['weights.bin']}", "kind": "exact",
                                                     "body_file": weights_path}], nginx.pid),
            (f"GET revision info, {WATCH_OFF}", mirror_unwatched, [{"method": "GET", "path": f"/api/models/{REPO}/revision/main", "kind": "info"}],
             unwatched.pid, commits),
            (f"GET config.json, {WATCH_OFF}", mirror_unwatched, [{"method": "GET", "path": f"/{REPO}/resolve/main/config.json", "kind": "exact",
                                                                 "body_file": config_path}], unwatched.pid),
        ]
        bodies = {old_sha: config_path, new_sha: os.path.join(data[1], "config.json")}
        mixed = [{"method": "GET", "path": f"/api/models/{REPO}/revision/main", "kind": "info"},
                 {"method": "GET", "path": f"/{REPO}/resolve/main/config.json", "kind": "resolve"}]
        measured = []
        for k in range(a.runs):
            load = os.getloadavg()
            bench.log(f"run {k + 1} of {a.runs}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            results = interleaved(lambda r, part: wrk(a.work, r[0], r[1], r[2], part, r[3], commits=r[4] if len(r) > 4 else None),
                                  runs, a)
            head_rows = [("HEAD /healthz", "/healthz"), ("HEAD config.json", f"/{REPO}/resolve/main/config.json"),
                         ("HEAD revision info", f"/api/models/{REPO}/revision/main")]
            heads = interleaved(lambda r, part: head_load(a.work, r[0], mirror, r[1], part, serve.pid), head_rows, a)
            # Under load while sync moves main between the two commits, as often as it can (it ends on the old one).
            publisher = subprocess.Popen([sys.executable, __file__, "--publish-loop", hubmirror, store, hubs[1][1], hubs[0][1],
                                          str(a.duration)], stdout=subprocess.PIPE, text=True)
            under_sync = wrk(a.work, "revision info + GET config.json while sync publishes", mirror, mixed, a, serve.pid,
                             commits=commits, bodies=bodies)
            publications = int(publisher.communicate()[0].strip() or 0)
            measured.append((load, results, heads, under_sync, publications))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    # Other work on the machine skews every rate: the run that started at the lowest load is reported.
    load, results, heads, under_sync, publications = min(measured, key=lambda m: m[0][0])
    report(results, heads, under_sync, publications, a, load, len(measured))


def write_tmp(work, name, content):
    p = os.path.join(work, name)
    with open(p, "wb") as f:
        f.write(content)
    return p


def publish_loop(hubmirror, store, endpoint_new, endpoint_old, seconds):
    """Syncs main back and forth between two commits for `seconds`; prints how many syncs published."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        for e in (endpoint_new, endpoint_old):
            subprocess.run([hubmirror, "sync", REPO, "--endpoint", e, "--cache-dir", store, "--no-fsync"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            n += 1
    print(n)


def report(results, heads, under_sync, publications, a, load, runs):
    health = results[0]["rate"]
    nginx = {"config.json": results[4]["rate"], "weights.bin": results[5]["rate"]}
    chosen = f"the one of {runs} runs that began at the lowest load" if runs > 1 else "one run"
    lines = [f"`wrk -t2 -c{a.connections}` on 127.0.0.1, {os.cpu_count()} cores, release build, {chosen} "
             f"(load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at its start). Each row ran {a.duration} s in all, as "
             f"{a.slices} turns of {max(1, round(a.duration / a.slices))} s interleaved with the other rows of its group; req/s is "
             "the mean of the turns, p99 the worst turn's. Every answer checked (status, bytes; for HEAD every header but `Date` "
             "and `X-Request-Id`).", "",
             "| request | req/s | ratio to `/healthz` | ratio to nginx | p99 (ms) | server CPU s | server CPU µs per request | wrong answers | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def per_request(r):
        n = r["good"] + r["bad"]
        return f"{r['cpu'] / n * 1e6:.0f}" if n else ""

    for r in results:
        to_nginx = ""
        if not r["name"].startswith("nginx") and "GET" in r["name"]:
            for k, v in nginx.items():
                if k in r["name"]:
                    to_nginx = f"{r['rate'] / v:.2f}"
        lines.append(f"| {r['name']} | {r['rate']:.0f} | {r['rate'] / health:.2f} | {to_nginx} | {r['p99_ms']:.1f} | "
                     f"{r['cpu']:.1f} | {per_request(r)} | {r['bad']} | {r['errors']} |")
    for r in heads:
        lines.append(f"| {r['name']} (epoll client) | {r['rate']:.0f} | {r['rate'] / heads[0]['rate']:.2f} (to HEAD `/healthz`) |  | "
                     f"{r['p99_ms']:.1f} | {r['cpu']:.1f} | {per_request(r)} | {r['bad']} | {r['errors']} |")
    u = under_sync
    lines += ["", f"While `hubmirror sync` moved `main` between two commits {publications} times (revision info and "
              f"GET config.json alternating): {u['rate']:.0f} req/s, p99 {u['p99_ms']:.1f} ms, {u['good']} answers checked, "
              f"{u['old']} revision infos of the old commit and {u['new']} of the new one, {u['bad']} stale or mixed, "
              f"{u['errors']} errors."]
    table = "\n".join(lines)
    print(table)
    if a.write_doc:
        doc = os.path.join(ROOT, "Docs", "performance.md")
        text = open(doc).read()
        start, end = "<!-- load:start -->", "<!-- load:end -->"
        i, j = text.index(start) + len(start), text.index(end)
        open(doc, "w").write(text[:i] + "\n" + table + "\n" + text[j:])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--publish-loop":
        publish_loop(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    else:
        main()
