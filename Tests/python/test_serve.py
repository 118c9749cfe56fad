"""`hubmirror serve` as seen by the official client (huggingface_hub 2.4.0, its `hf` CLI) and by olah
0.5.4 using it as upstream. The store is written by hand here, in the layout hubmirror sync leaves:
blobs named by ETag, relative snapshot links, refs without newline, hubmirror's manifest and repo
info under `<repo>/.hubmirror/`. Every downloaded file is checked by SHA-256.

Needs the `hubmirror` binary (with `serve`) in $HUBMIRROR_BIN_DIR (default .build/debug)."""
import hashlib
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

BIN = os.environ.get("HUBMIRROR_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))
TOKEN = "sekrit-token"
MAIN = "1" * 40
FEATURE = "2" * 40
PR = "3" * 40


# ---------------------------------------------------------------------------------------------
# A huggingface_hub cache written by hand

def pattern(n, seed=7):
    return bytes(((i * 31 + seed) % 251) for i in range(n))


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class RepoFile:
    def __init__(self, path, content, lfs=False):
        self.path = path
        self.content = content if isinstance(content, bytes) else content.encode()
        self.lfs = lfs

    @property
    def sha256(self):
        return hashlib.sha256(self.content).hexdigest()

    def entry(self):
        """One manifest entry, as Swift's JSONEncoder writes it (sorted keys)."""
        e = {"path": self.path, "size": len(self.content), "sha256": self.sha256}
        if self.lfs:
            pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                       % (self.sha256, len(self.content))).encode()
            e["blobID"] = git_blob_id(pointer)
            e["lfs"] = {"pointerSize": len(pointer), "sha256": self.sha256, "size": len(self.content)}
        else:
            e["blobID"] = git_blob_id(self.content)
        return e

    @property
    def etag(self):
        return self.sha256 if self.lfs else git_blob_id(self.content)


def write_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp-test"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def add_commit(cache, repo_type, repo_id, commit, files, refs=(), linked=None, info=None):
    folder = os.path.join(cache, "%ss--%s" % (repo_type, repo_id.replace("/", "--")))
    snap = os.path.join(folder, "snapshots", commit)
    os.makedirs(snap, exist_ok=True)
    os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
    for f in files:
        blob = os.path.join(folder, "blobs", f.etag)
        if not os.path.exists(blob):
            write_atomic(blob, f.content)
        if linked is not None and f.path not in linked:
            continue
        link = os.path.join(snap, f.path)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(blob, os.path.dirname(link)), link)
    manifest = {"commit": commit, "entries": sorted((f.entry() for f in files), key=lambda e: e["path"]),
                "formatVersion": 1, "repo": {"id": repo_id, "type": repo_type}}
    write_atomic(os.path.join(folder, ".hubmirror", "manifests", commit + ".json"),
                 json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    if info is not None:
        info = dict(info, repo={"id": repo_id, "type": repo_type})
        write_atomic(os.path.join(folder, ".hubmirror", "repo-info.json"), json.dumps(info, sort_keys=True).encode())
    for r in refs:
        write_atomic(os.path.join(folder, "refs", r), commit.encode())


TINY = [
    RepoFile("README.md", "# tiny\n"),
    RepoFile("config.json", '{"hidden_size": 8}'),
    RepoFile("model.safetensors", pattern(3 * 1024 * 1024 + 17), lfs=True),
    RepoFile("empty.txt", b""),
    RepoFile("sub/notes.txt", "notes\n"),
    RepoFile("sub/dir/w.bin", pattern(30000, 3), lfs=True),
    RepoFile("odd name & #1?.txt", "odd\n"),
    RepoFile("ünï/cødé.txt", "unicode\n"),
    RepoFile("extra/not-synced.bin", pattern(100, 9), lfs=True),
]
TINY_LINKED = {f.path for f in TINY} - {"extra/not-synced.bin"}
FEATURE_FILES = [RepoFile("README.md", "# tiny, feature\n"), RepoFile("model.safetensors", pattern(3 * 1024 * 1024 + 17), lfs=True)]
PR_FILES = [RepoFile("README.md", "# tiny, PR 1\n"), RepoFile("sub/notes.txt", "pr notes\n")]
DATA = [RepoFile("train.csv", "a,b\n1,2\n"), RepoFile("data/part-0.parquet", pattern(5000, 5), lfs=True)]
PLAIN = [RepoFile("README.md", "# plain\n"), RepoFile("weights/model.bin", pattern(2 * 1024 * 1024 + 5, 11), lfs=True),
         RepoFile("config.json", '{"a": 1}')]


def by_path(files):
    return {f.path: f.sha256 for f in files}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("store") / "hub")
    add_commit(cache, "model", "acme/tiny", MAIN, TINY, refs=["main", "v1.0"], linked=TINY_LINKED,
               info={"isPrivate": False, "tags": ["v1.0"]})
    add_commit(cache, "model", "acme/tiny", FEATURE, FEATURE_FILES, refs=["feature/x"])
    add_commit(cache, "model", "acme/tiny", PR, PR_FILES, refs=["refs/pr/1"])
    add_commit(cache, "dataset", "acme/data", MAIN, DATA, refs=["main"])
    add_commit(cache, "model", "acme/gated", MAIN, DATA, refs=["main"], info={"isPrivate": False, "gated": "manual"})
    add_commit(cache, "model", "acme/private", MAIN, DATA, refs=["main"], info={"isPrivate": True})
    add_commit(cache, "model", "acme/plain", MAIN, PLAIN, refs=["main"])
    return cache


# ---------------------------------------------------------------------------------------------
# Processes

def read_line_matching(proc, stream, regex, timeout=60):
    """Reads lines of `stream` until one matches; fails if the process exits or time runs out."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = stream.readline()
            if not line:
                raise AssertionError("process exited (rc=%s) before printing %r; output: %s" % (proc.poll(), regex, seen))
            seen.append(line)
            m = re.search(regex, line)
            if m:
                return m
        raise AssertionError("timed out waiting for %r; output: %s" % (regex, seen))
    finally:
        sel.close()


class Server:
    def __init__(self, proc, url, log):
        self.proc, self.url, self.log = proc, url, log

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=20)
        assert rc == 0, "serve exited %s after SIGTERM" % rc


def start_serve(cache, tmp_path, *extra):
    tokens = tmp_path / "tokens"
    tokens.write_text("# test tokens\n%s\n" % TOKEN)
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", cache, "--port", "0",
                             "--tokens", str(tokens), *extra],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        m = read_line_matching(proc, proc.stdout, r"^listening on (http://127\.0\.0\.1:\d+)$")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return Server(proc, m.group(1), log)


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    s = start_serve(store, tmp_path_factory.mktemp("serve"), "--page-size", "2")
    yield s
    s.stop()


def client_env(tmp_path, endpoint=None, **extra):
    env = dict(os.environ, HF_HOME=str(tmp_path / "hf_home"), HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    for k in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_XET"]:
        env.pop(k, None)
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    env.update(extra)
    return env


def run_python(code, env):
    """Runs client code in a fresh interpreter (the client reads its settings at import); the last
    stdout line is JSON."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def sha256_tree(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".cache"]
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


# ---------------------------------------------------------------------------------------------
# The official client against hubmirror serve

def test_snapshot_download_at_branch_tag_sha_and_pr(server, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import snapshot_download as s\n"
        "out = {r: s('acme/tiny', revision=r) for r in ['main', 'v1.0', %r, 'refs/pr/1', 'feature/x']}\n"
        "out['filtered'] = s('acme/tiny', revision='main', allow_patterns=['*.md', 'sub/*'], cache_dir=%r)\n"
        "print(json.dumps(out))" % (MAIN, str(tmp_path / "filtered")),
        client_env(tmp_path, server.url))
    tiny = {p: h for p, h in by_path(TINY).items() if p in TINY_LINKED}
    for rev in ["main", "v1.0", MAIN]:
        assert os.path.basename(got[rev]) == MAIN
        assert sha256_tree(got[rev]) == tiny
    assert os.path.basename(got["refs/pr/1"]) == PR
    assert sha256_tree(got["refs/pr/1"]) == by_path(PR_FILES)
    assert os.path.basename(got["feature/x"]) == FEATURE
    assert sha256_tree(got["feature/x"]) == by_path(FEATURE_FILES)
    assert sha256_tree(got["filtered"]) == {p: h for p, h in tiny.items() if p.endswith(".md") or p.startswith("sub/")}
    # Refs written by the client, blobs named by the ETags we sent.
    hub = tmp_path / "hf_home" / "hub" / "models--acme--tiny"
    assert (hub / "refs" / "main").read_text() == MAIN
    assert (hub / "refs" / "refs" / "pr" / "1").read_text() == PR
    blobs = set(os.listdir(hub / "blobs"))
    assert {f.etag for f in TINY if f.path in TINY_LINKED} <= blobs


def test_scan_cache_dir_is_clean_after_downloads(server, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import snapshot_download, scan_cache_dir\n"
        "snapshot_download('acme/tiny'); snapshot_download('acme/data', repo_type='dataset')\n"
        "info = scan_cache_dir()\n"
        "print(json.dumps({'warnings': [str(w) for w in info.warnings], 'repos': len(info.repos)}))",
        client_env(tmp_path, server.url))
    assert got == {"warnings": [], "repos": 2}


def test_hf_hub_download_odd_names_and_datasets(server, tmp_path):
    names = ["odd name & #1?.txt", "ünï/cødé.txt", "empty.txt", "sub/dir/w.bin", "model.safetensors"]
    got = run_python(
        "import json\n"
        "from huggingface_hub import hf_hub_download as d\n"
        "out = {n: d('acme/tiny', n) for n in %r}\n"
        "out['train.csv'] = d('acme/data', 'train.csv', repo_type='dataset')\n"
        "out['part'] = d('acme/data', 'data/part-0.parquet', repo_type='dataset', revision='main')\n"
        "out['pr'] = d('acme/tiny', 'sub/notes.txt', revision='refs/pr/1')\n"
        "print(json.dumps(out))" % names,
        client_env(tmp_path, server.url))
    tiny = by_path(TINY)
    for n in names:
        assert hashlib.sha256(open(got[n], "rb").read()).hexdigest() == tiny[n], n
    assert hashlib.sha256(open(got["train.csv"], "rb").read()).hexdigest() == by_path(DATA)["train.csv"]
    assert hashlib.sha256(open(got["part"], "rb").read()).hexdigest() == by_path(DATA)["data/part-0.parquet"]
    assert open(got["pr"]).read() == "pr notes\n"


def test_missing_things_raise_the_right_errors(server, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import hf_hub_download as d\n"
        "from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError\n"
        "out = {}\n"
        "for name, call in [('repo', lambda: d('acme/nope', 'x')), ('rev', lambda: d('acme/tiny', 'README.md', revision='nope')),\n"
        "                   ('entry', lambda: d('acme/tiny', 'nope.txt')), ('filtered', lambda: d('acme/tiny', 'extra/not-synced.bin'))]:\n"
        "    try:\n"
        "        call(); out[name] = 'ok'\n"
        "    except Exception as e:\n"
        "        out[name] = [c.__name__ for c in type(e).__mro__]\n"
        "print(json.dumps(out))",
        client_env(tmp_path, server.url))
    assert "RepositoryNotFoundError" in got["repo"]
    assert "RevisionNotFoundError" in got["rev"]
    assert "EntryNotFoundError" in got["entry"] or "RemoteEntryNotFoundError" in got["entry"]
    assert "EntryNotFoundError" in got["filtered"] or "RemoteEntryNotFoundError" in got["filtered"]


def test_list_repo_tree_across_pages_and_paths_info(server, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import HfApi\n"
        "from huggingface_hub.hf_api import RepoFile, RepoFolder\n"
        "api = HfApi()\n"
        "def rows(items): return sorted([type(i).__name__, i.path, getattr(i, 'size', 0), i.blob_id if isinstance(i, RepoFile) else i.tree_id,\n"
        "                                (i.lfs.sha256 if isinstance(i, RepoFile) and i.lfs else None)] for i in items)\n"
        "out = {'all': rows(api.list_repo_tree('acme/tiny', recursive=True)),\n"
        "       'sub': rows(api.list_repo_tree('acme/tiny', path_in_repo='sub')),\n"
        "       'pr': rows(api.list_repo_tree('acme/tiny', revision='refs/pr/1', recursive=True)),\n"
        "       'info': rows(api.get_paths_info('acme/tiny', ['README.md', 'sub', 'odd name & #1?.txt', 'ünï/cødé.txt', 'missing', 'extra/not-synced.bin'])),\n"
        "       'files': api.list_repo_files('acme/tiny'),\n"
        "       'sha': api.model_info('acme/tiny', revision='v1.0').sha,\n"
        "       'siblings': sorted(s.rfilename for s in api.model_info('acme/tiny', files_metadata=True).siblings),\n"
        "       'dataset': api.dataset_info('acme/data').sha}\n"
        "print(json.dumps(out))",
        client_env(tmp_path, server.url))
    entries = {f.path: f.entry() for f in TINY if f.path in TINY_LINKED}
    files = [r for r in got["all"] if r[0] == "RepoFile"]
    folders = [r[1] for r in got["all"] if r[0] == "RepoFolder"]
    assert sorted(r[1] for r in files) == sorted(entries), "every file once, across pages of 2"
    assert sorted(folders) == ["sub", "sub/dir", "ünï"]
    for kind, path, size, oid, lfs in files:
        e = entries[path]
        assert (size, oid, lfs) == (e["size"], e["blobID"], e.get("lfs", {}).get("sha256"))
    assert sorted(r[1] for r in got["sub"]) == ["sub/dir", "sub/notes.txt"]
    assert sorted(r[1] for r in got["pr"]) == ["README.md", "sub", "sub/notes.txt"]
    assert sorted(r[1] for r in got["info"]) == ["README.md", "odd name & #1?.txt", "sub", "ünï/cødé.txt"]
    assert sorted(got["files"]) == sorted(entries)
    assert got["sha"] == MAIN and got["dataset"] == MAIN
    assert got["siblings"] == sorted(entries)


def test_refs_and_commits(server, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import HfApi\n"
        "api = HfApi()\n"
        "refs = api.list_repo_refs('acme/tiny', include_pull_requests=True)\n"
        "commits = api.list_repo_commits('acme/tiny', revision='feature/x')\n"
        "print(json.dumps({'branches': sorted([b.name, b.target_commit] for b in refs.branches),\n"
        "                  'prs': [[p.ref, p.target_commit] for p in refs.pull_requests],\n"
        "                  'tags': [[t.name, t.ref, t.target_commit] for t in refs.tags],\n"
        "                  'commits': [c.commit_id for c in commits]}))",
        client_env(tmp_path, server.url))
    assert got["branches"] == sorted([["main", MAIN], ["feature/x", FEATURE]])
    assert got["tags"] == [["v1.0", "refs/tags/v1.0", MAIN]]
    assert got["prs"] == [["refs/pr/1", PR]]
    assert got["commits"] == [FEATURE]


def test_the_official_client_writing_into_a_served_cache_is_seen_by_the_next_request(server, tmp_path):
    """huggingface_hub downloads a new revision into the very cache a second `hubmirror serve` serves
    (a foreign writer: no hubmirror manifest, the ref rewritten in place). The second server's kept
    answers for `main` (warmed on the old commit) give way on the next request."""
    cache = str(tmp_path / "served")
    add_commit(cache, "model", "acme/tiny", PR, PR_FILES, refs=["main"], info={"isPrivate": False})
    (tmp_path / "b").mkdir()
    b = start_serve(cache, tmp_path / "b")
    try:
        ask = (
            "import json\n"
            "from huggingface_hub import HfApi, hf_hub_download\n"
            "info = HfApi().model_info('acme/tiny', revision='main')\n"
            "readme = open(hf_hub_download('acme/tiny', 'README.md', revision='main', cache_dir=%r)).read()\n"
            "print(json.dumps({'sha': info.sha, 'files': sorted(s.rfilename for s in info.siblings), 'readme': readme}))")
        for i in range(3):  # warm: the same answers kept and given again
            before = run_python(ask % str(tmp_path / ("warm%d" % i)), client_env(tmp_path / "c", b.url))
        assert before == {"sha": PR, "files": sorted(f.path for f in PR_FILES), "readme": "# tiny, PR 1\n"}
        # The foreign writer: the official client, from the first server, into the second one's cache.
        wrote = run_python(
            "import json\n"
            "from huggingface_hub import snapshot_download\n"
            "print(json.dumps(snapshot_download('acme/tiny', revision='main', cache_dir=%r)))" % cache,
            client_env(tmp_path / "w", server.url))
        assert os.path.basename(wrote) == MAIN
        after = run_python(ask % str(tmp_path / "after"), client_env(tmp_path / "c", b.url))
        assert after["sha"] == MAIN
        assert after["readme"] == "# tiny\n"
        assert after["files"] == sorted(TINY_LINKED)
    finally:
        b.stop()


def test_gated_and_private_repos_need_the_token(server, tmp_path):
    code = (
        "import json\n"
        "from huggingface_hub import hf_hub_download as d\n"
        "out = {}\n"
        "for repo in ['acme/gated', 'acme/private']:\n"
        "    try:\n"
        "        out[repo] = open(d(repo, 'train.csv')).read()\n"
        "    except Exception as e:\n"
        "        out[repo] = type(e).__name__\n"
        "print(json.dumps(out))")
    without = run_python(code, client_env(tmp_path / "anon", server.url))
    assert without == {"acme/gated": "GatedRepoError", "acme/private": "RepositoryNotFoundError"}
    wrong = run_python(code, client_env(tmp_path / "wrong", server.url, HF_TOKEN="hf_not_ours"))
    assert wrong == without
    ok = run_python(code, client_env(tmp_path / "token", server.url, HF_TOKEN=TOKEN))
    assert ok == {"acme/gated": "a,b\n1,2\n", "acme/private": "a,b\n1,2\n"}


def test_hf_download_cli(server, tmp_path):
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    out = tmp_path / "local"
    r = subprocess.run([hf, "download", "acme/tiny", "--revision", "main", "--local-dir", str(out)],
                       capture_output=True, text=True, env=client_env(tmp_path, server.url), timeout=300)
    assert r.returncode == 0, r.stderr
    assert sha256_tree(str(out)) == {p: h for p, h in by_path(TINY).items() if p in TINY_LINKED}
    r = subprocess.run([hf, "download", "acme/data", "train.csv", "--repo-type", "dataset"],
                       capture_output=True, text=True, env=client_env(tmp_path, server.url), timeout=300)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "hf_home" / "hub" / "datasets--acme--data" / "snapshots" / MAIN / "train.csv"
    assert str(path) in r.stdout
    assert path.read_text() == "a,b\n1,2\n"


def test_agent_harnesses_with_telemetry_on(server, tmp_path):
    env = client_env(tmp_path, server.url)
    env.pop("HF_HUB_DISABLE_TELEMETRY")
    got = run_python(
        "import json, os\n"
        "from huggingface_hub import hf_hub_download\n"
        "p = hf_hub_download('acme/tiny', 'README.md')\n"
        "cached = os.path.join(os.environ['HF_HOME'], '.agent_harnesses.json')\n"
        "print(json.dumps({'readme': open(p).read(), 'harnesses': json.load(open(cached))}))",
        env)
    assert got["readme"] == "# tiny\n"
    # Fetched from hubmirror (the registry HF_ENDPOINT serves) and cached for 24 h by the client.
    assert got["harnesses"] == {"standardEnvVars": [], "harnesses": {}}


# ---------------------------------------------------------------------------------------------
# olah with hubmirror serve as its upstream

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def olah(server, tmp_path):
    cli = os.path.join(os.path.dirname(sys.executable), "olah-cli")
    if not os.path.exists(cli):
        pytest.skip("olah is not installed in this environment")
    netloc = server.url[len("http://"):]
    port = free_port()
    work = tmp_path / "olah"
    work.mkdir()
    proc = subprocess.Popen([cli, "--host", "127.0.0.1", "--port", str(port),
                             "--hf-scheme", "http", "--hf-netloc", netloc, "--hf-lfs-netloc", netloc,
                             "--mirror-netloc", "127.0.0.1:%d" % port, "--mirror-lfs-netloc", "127.0.0.1:%d" % port,
                             "--repos-path", str(work / "repos"), "--log-path", str(work / "logs")],
                            cwd=str(work), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    drain = None
    try:
        read_line_matching(proc, proc.stderr, r"Uvicorn running on http://127\.0\.0\.1:%d" % port)
        # Keep reading olah's log so that it never blocks on a full pipe.
        drain = threading.Thread(target=lambda: shutil.copyfileobj(proc.stderr, open(work / "olah.log", "w")), daemon=True)
        drain.start()
        yield "http://127.0.0.1:%d" % port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if drain is not None:
            drain.join(timeout=10)


def test_olah_downloads_through_hubmirror(olah, tmp_path):
    got = run_python(
        "import json\n"
        "from huggingface_hub import snapshot_download as s, hf_hub_download as d\n"
        "out = {'plain': s('acme/plain'), 'data': s('acme/data', repo_type='dataset'),\n"
        "       'readme': d('acme/tiny', 'README.md', revision=%r)}\n"
        "print(json.dumps(out))" % MAIN,
        client_env(tmp_path, olah))
    assert sha256_tree(got["plain"]) == by_path(PLAIN)
    assert sha256_tree(got["data"]) == by_path(DATA)
    assert open(got["readme"]).read() == "# tiny\n"


# ---------------------------------------------------------------------------------------------
# The command itself

def test_allow_list_and_shutdown(store, tmp_path):
    s = start_serve(store, tmp_path, "--allow", "acme/t*", "--allow", "datasets/acme/*")
    try:
        got = run_python(
            "import json\n"
            "from huggingface_hub import HfApi\n"
            "api = HfApi()\n"
            "out = {}\n"
            "for name, call in [('tiny', lambda: api.model_info('acme/tiny').sha), ('data', lambda: api.dataset_info('acme/data').sha),\n"
            "                   ('plain', lambda: api.model_info('acme/plain').sha)]:\n"
            "    try:\n"
            "        out[name] = call()\n"
            "    except Exception as e:\n"
            "        out[name] = type(e).__name__\n"
            "print(json.dumps(out))",
            client_env(tmp_path, s.url))
        assert got == {"tiny": MAIN, "data": MAIN, "plain": "RepositoryNotFoundError"}
    finally:
        s.stop()


def test_bad_options_exit_with_usage_error(tmp_path):
    r = subprocess.run([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", str(tmp_path / "missing"), "--port", "0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "does not exist" in r.stderr
    assert r.stdout == ""
