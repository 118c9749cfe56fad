"""The official huggingface_hub client reads what `hubmirror sync` wrote, offline, as if it had
downloaded it itself; and its own online download from the same hub yields the same bytes."""
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

BIN = os.environ.get("HUBMIRROR_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))


def sha256_tree(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".cache"]
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def demo_hub():
    p = subprocess.Popen([os.path.join(BIN, "hubmirror-fakehub"), "--demo", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    assert line.startswith("listening on "), line
    yield line[len("listening on "):]
    p.terminate()
    p.wait(timeout=10)


def hubmirror(*args, env=None):
    r = subprocess.run([os.path.join(BIN, "hubmirror"), *args], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run_python(code, env):
    r = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def client_env(**extra):
    env = dict(os.environ, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    env.pop("HF_TOKEN", None)
    env.update(extra)
    return env


def test_offline_snapshot_download_reads_the_mirror_and_matches_the_official_download(demo_hub, tmp_path):
    mirror = str(tmp_path / "mirror")
    for rev in ["v1.0", "main"]:
        hubmirror("sync", f"acme/tiny-model@{rev}", "--endpoint", demo_hub, "--cache-dir", mirror)
    # The official client, offline, resolves main and v1.0 from the refs hubmirror wrote.
    got = run_python(
        "import json; from huggingface_hub import snapshot_download as s\n"
        "print(json.dumps({r: s('acme/tiny-model', revision=r) for r in ['main', 'v1.0']}))",
        client_env(HF_HUB_OFFLINE="1", HF_HUB_CACHE=mirror))
    # The official client, online, downloading the same revisions itself.
    official = str(tmp_path / "official")
    want = run_python(
        "import json; from huggingface_hub import snapshot_download as s\n"
        "print(json.dumps({r: s('acme/tiny-model', revision=r) for r in ['main', 'v1.0']}))",
        client_env(HF_ENDPOINT=demo_hub, HF_HUB_CACHE=official))
    for rev in ["main", "v1.0"]:
        assert os.path.basename(got[rev]) == os.path.basename(want[rev]), "same commit"
        mine, theirs = sha256_tree(got[rev]), sha256_tree(want[rev])
        assert mine == theirs and len(mine) >= 6
    # Same blob names (ETags) as the official client chose.
    assert sorted(os.listdir(os.path.join(mirror, "models--acme--tiny-model", "blobs"))) == \
        sorted(os.listdir(os.path.join(official, "models--acme--tiny-model", "blobs")))


def test_scan_cache_dir_reports_no_warnings(demo_hub, tmp_path):
    mirror = str(tmp_path / "mirror")
    hubmirror("sync", "acme/tiny-model", "--endpoint", demo_hub, "--cache-dir", mirror)
    hubmirror("sync", "acme/tiny-model", "--revision", "refs/pr/1", "--endpoint", demo_hub, "--cache-dir", mirror)
    hubmirror("sync", "acme/tiny-model", "--revision", "feature/x", "--endpoint", demo_hub, "--cache-dir", mirror)
    hubmirror("sync", "acme/tiny-data", "--type", "dataset", "--endpoint", demo_hub, "--cache-dir", mirror)
    hubmirror("sync", "acme/tiny-space", "--type", "space", "--endpoint", demo_hub, "--cache-dir", mirror)
    info = run_python(
        "import json; from huggingface_hub import scan_cache_dir\n"
        f"i = scan_cache_dir({mirror!r})\n"
        "print(json.dumps({'warnings': [str(w) for w in i.warnings], 'repos': sorted((r.repo_type, r.repo_id, len(r.revisions), sorted(x for rv in r.revisions for x in rv.refs)) for r in i.repos)}))",
        client_env())
    assert info["warnings"] == []
    repos = {(t, i): (n, refs) for t, i, n, refs in info["repos"]}
    assert repos[("model", "acme/tiny-model")] == (3, ["feature/x", "main", "refs/pr/1"])
    assert ("dataset", "acme/tiny-data") in repos and ("space", "acme/tiny-space") in repos


def test_failed_first_syncs_leave_nothing_scan_cache_dir_warns_about(demo_hub, tmp_path):
    mirror = str(tmp_path / "mirror")
    hubmirror("sync", "acme/tiny-model", "--endpoint", demo_hub, "--cache-dir", mirror)
    for args, code in [(["acme/nope"], 10), (["acme/tiny-data", "--type", "dataset", "--include", "nomatch*"], 64)]:
        r = subprocess.run([os.path.join(BIN, "hubmirror"), "sync", *args, "--endpoint", demo_hub, "--cache-dir", mirror],
                           capture_output=True, text=True)
        assert r.returncode == code, r.stderr
    info = run_python(
        "import json; from huggingface_hub import scan_cache_dir\n"
        f"i = scan_cache_dir({mirror!r})\n"
        "print(json.dumps({'warnings': [str(w) for w in i.warnings], 'repos': sorted(r.repo_id for r in i.repos)}))",
        client_env())
    assert info == {"warnings": [], "repos": ["acme/tiny-model"]}


def test_a_local_dir_the_official_client_wrote_is_synced_without_complaint(demo_hub, tmp_path):
    local = str(tmp_path / "tree")
    run_python(
        "import json; from huggingface_hub import snapshot_download\n"
        f"print(json.dumps(snapshot_download('acme/tiny-model', revision='v1.0', local_dir={local!r})))",
        client_env(HF_ENDPOINT=demo_hub))
    hubmirror("sync", "acme/tiny-model", "--local-dir", local, "--endpoint", demo_hub)


def test_hf_hub_download_offline_finds_odd_names_and_allow_patterns_work(demo_hub, tmp_path):
    mirror = str(tmp_path / "mirror")
    hubmirror("sync", "acme/tiny-model", "--include", "*.txt", "--endpoint", demo_hub, "--cache-dir", mirror)
    got = run_python(
        "import json, os; from huggingface_hub import hf_hub_download, snapshot_download\n"
        "p = hf_hub_download('acme/tiny-model', 'odd name & #1?.txt')\n"
        "s = snapshot_download('acme/tiny-model', allow_patterns=['*.txt'])\n"
        "print(json.dumps({'odd': open(p).read(), 'files': sorted(os.listdir(s))}))",
        client_env(HF_HUB_OFFLINE="1", HF_HUB_CACHE=mirror))
    assert got["odd"]
    assert all(f.endswith(".txt") for f in got["files"]) and "odd name & #1?.txt" in got["files"]
    # A snapshot synced with --include is incomplete for other patterns, and the client says so.
    r = subprocess.run([os.sys.executable, "-c", "from huggingface_hub import snapshot_download; snapshot_download('acme/tiny-model')"],
                       capture_output=True, text=True, env=client_env(HF_HUB_OFFLINE="1", HF_HUB_CACHE=mirror))
    assert r.returncode != 0 and "Incomplete" in r.stderr


def test_local_dir_is_adopted_by_the_official_client_without_downloading(demo_hub, tmp_path):
    local = str(tmp_path / "tree")
    hubmirror("sync", "acme/tiny-model", "--local-dir", local, "--endpoint", demo_hub)
    before = {f: os.stat(os.path.join(local, f)).st_mtime_ns for f in sha256_tree(local)}
    got = run_python(
        "import json; from huggingface_hub import snapshot_download\n"
        f"print(json.dumps(snapshot_download('acme/tiny-model', local_dir={local!r})))",
        client_env(HF_ENDPOINT=demo_hub))
    after = {f: os.stat(os.path.join(local, f)).st_mtime_ns for f in sha256_tree(local)}
    assert before == after, "the client trusted hubmirror's metadata and rewrote nothing"
    assert os.path.samefile(got, local)


def test_serve_pull_through_fetches_from_upstream_on_first_request(demo_hub, tmp_path):
    """`serve --upstream`: a repo the mirror lacks is synced (verified) from upstream, then served."""
    store = str(tmp_path / "store")
    os.makedirs(store)
    p = subprocess.Popen([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", store, "--port", "0", "--upstream", demo_hub],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("listening on "), line
        mirror = line[len("listening on "):]
        code = ("import json, concurrent.futures as cf; from huggingface_hub import snapshot_download as s\n"
                "with cf.ThreadPoolExecutor(2) as ex:\n"
                "    paths = list(ex.map(lambda r: s('acme/tiny-model', revision=r), ['main', 'main']))\n"
                "print(json.dumps(paths))")
        paths = run_python(code, client_env(HF_ENDPOINT=mirror, HF_HUB_CACHE=str(tmp_path / "client")))
        official = run_python("import json; from huggingface_hub import snapshot_download as s; print(json.dumps(s('acme/tiny-model')))",
                              client_env(HF_ENDPOINT=demo_hub, HF_HUB_CACHE=str(tmp_path / "official")))
        assert sha256_tree(paths[0]) == sha256_tree(official) == sha256_tree(paths[1])
        # The mirror's own store now holds the repo, verified, in the cache layout.
        assert os.path.exists(os.path.join(store, "models--acme--tiny-model", "refs", "main"))
    finally:
        p.terminate()
        assert p.wait(timeout=15) == 0


def test_serve_pull_through_streams_a_slow_upstream_within_the_client_timeout(tmp_path):
    """A file that takes far longer than the client's read timeout to come from upstream still
    downloads: `serve --upstream` answers HEAD from the listing and streams the written prefix."""
    import time
    hub = subprocess.Popen([os.path.join(BIN, "hubmirror-fakehub"), "--demo", "--port", "0",
                            "--trickle", "model.safetensors:400000"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    store = str(tmp_path / "store")
    os.makedirs(store)
    serve = None
    try:
        upstream = hub.stdout.readline().strip()[len("listening on "):]
        serve = subprocess.Popen([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", store, "--port", "0",
                                  "--upstream", upstream], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        mirror = serve.stdout.readline().strip()[len("listening on "):]
        started = time.monotonic()
        r = subprocess.run([os.sys.executable, "-c",
                            "import hashlib, json, os; from huggingface_hub import hf_hub_download\n"
                            "p = hf_hub_download('acme/tiny-model', 'model.safetensors')\n"
                            "print(json.dumps({'sha': hashlib.sha256(open(p, 'rb').read()).hexdigest(), 'size': os.path.getsize(p),\n"
                            "                  'etag': os.path.basename(os.path.realpath(p))}))"],
                           capture_output=True, text=True,
                           env=client_env(HF_ENDPOINT=mirror, HF_HUB_CACHE=str(tmp_path / "client"),
                                          HF_HUB_DOWNLOAD_TIMEOUT="3", HF_HUB_ETAG_TIMEOUT="3"))
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout.strip().splitlines()[-1])
        # The client retries a read that times out; it must never have had to.
        assert "Error while downloading" not in r.stderr and "Trying to resume" not in r.stderr, r.stderr
        elapsed = time.monotonic() - started
        # 3 MiB at 400 kB/s: the upstream needs about 8 s, well past the client's 3 s read timeout.
        assert elapsed > 6, elapsed
        assert got["size"] == 3 * 1024 * 1024 + 17
        assert got["sha"] == got["etag"], "the client stored it under its SHA-256 ETag, and the bytes match it"
        blob = os.path.join(store, "models--acme--tiny-model", "blobs", got["sha"])
        assert os.path.getsize(blob) == got["size"], "the mirror kept the verified file"
    finally:
        for p in (serve, hub):
            if p is not None:
                p.terminate()
                p.wait(timeout=15)


def test_pull_through_mirrors_chain(tmp_path):
    """client -> mirror B (serve --upstream A) -> mirror A (serve --upstream hub) -> hub: a whole repo
    arrives, byte-exact, with the client's 3 s timeouts while the hub sends its big file at 1 MB/s."""
    procs = []

    def start(args):
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(p)
        line = p.stdout.readline().strip()
        assert line.startswith("listening on "), line
        return line[len("listening on "):]

    try:
        hub = start([os.path.join(BIN, "hubmirror-fakehub"), "--demo", "--port", "0", "--trickle", "model.safetensors:1000000"])
        stores = [str(tmp_path / "a"), str(tmp_path / "b")]
        for s in stores:
            os.makedirs(s)
        a = start([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", stores[0], "--port", "0", "--upstream", hub])
        b = start([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", stores[1], "--port", "0", "--upstream", a])
        path = run_python("import json; from huggingface_hub import snapshot_download as s; print(json.dumps(s('acme/tiny-model')))",
                          client_env(HF_ENDPOINT=b, HF_HUB_CACHE=str(tmp_path / "client"),
                                     HF_HUB_DOWNLOAD_TIMEOUT="3", HF_HUB_ETAG_TIMEOUT="3"))
        got = sha256_tree(path)
        assert "model.safetensors" in got and len(got) == 7, got
        for s in stores:
            snap = os.path.join(s, "models--acme--tiny-model", "snapshots")
            assert sha256_tree(os.path.join(snap, os.listdir(snap)[0])) == got, "each mirror kept the same verified files"
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=15)


def test_served_large_files_and_ranges_are_byte_exact(demo_hub, tmp_path):
    """Files of 64 KiB and more leave `serve` through sendfile; every range must still be exact."""
    import urllib.request
    store = str(tmp_path / "store")
    hubmirror("sync", "acme/tiny-model", "--endpoint", demo_hub, "--cache-dir", store)
    p = subprocess.Popen([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", store, "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        mirror = p.stdout.readline().strip()[len("listening on "):]
        snap = os.path.join(store, "models--acme--tiny-model", "snapshots")
        data = open(os.path.join(snap, os.listdir(snap)[0], "model.safetensors"), "rb").read()
        assert len(data) > 1 << 20
        url = f"{mirror}/acme/tiny-model/resolve/main/model.safetensors"

        def get(rng=None):
            req = urllib.request.Request(url, headers={"Range": rng} if rng else {})
            with urllib.request.urlopen(req) as r:
                return r.status, r.headers, r.read()

        status, headers, body = get()
        assert status == 200 and body == data and int(headers["Content-Length"]) == len(data)
        n = len(data)
        for rng, want in [("bytes=0-99999", data[:100000]), ("bytes=100000-", data[100000:]),
                          (f"bytes=-{70000}", data[-70000:]), (f"bytes=1000-{n + 500}", data[1000:]),
                          ("bytes=65536-1114111", data[65536:1114112])]:
            status, headers, body = get(rng)
            assert status == 206 and body == want, rng
            assert int(headers["Content-Length"]) == len(want)
        # Many at once, interleaved.
        import concurrent.futures as cf
        with cf.ThreadPoolExecutor(8) as ex:
            bodies = list(ex.map(lambda i: get(f"bytes={i * 4096}-")[2], range(16)))
        assert all(b == data[i * 4096:] for i, b in enumerate(bodies))
    finally:
        p.terminate()
        assert p.wait(timeout=15) == 0
