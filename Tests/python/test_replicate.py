"""`hubmirror replicate`: the official huggingface_hub client reads a replicated store offline, every
ref of it, with the same bytes as the store it was replicated from; scan_cache_dir() finds it clean;
the CLI's --json report and exit codes."""
import hashlib
import json
import os
import subprocess

import pytest

BIN = os.environ.get("HUBMIRROR_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))
REFS = ["main", "v1.0", "refs/pr/1", "feature/x"]


def start(*args):
    p = subprocess.Popen([os.path.join(BIN, args[0]), *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    assert line.startswith("listening on "), line
    return p, line[len("listening on "):]


def stop(p):
    p.terminate()
    p.wait(timeout=15)


def hubmirror(*args, expect=0):
    r = subprocess.run([os.path.join(BIN, "hubmirror"), *args], capture_output=True, text=True)
    assert r.returncode == expect, r.stdout + r.stderr
    return r.stdout


def client(code, **env_extra):
    env = dict(os.environ, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    for k in ["HF_TOKEN", "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE"]:
        env.pop(k, None)
    env.update(env_extra)
    r = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def sha256_tree(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """Mirror A: every ref of the demo model and the demo dataset, synced from the demo hub, served."""
    hub, hub_url = start("hubmirror-fakehub", "--demo", "--port", "0")
    a = str(tmp_path_factory.mktemp("a"))
    try:
        for rev in REFS:
            hubmirror("sync", "acme/tiny-model", "--revision", rev, "--endpoint", hub_url, "--cache-dir", a)
        hubmirror("sync", "acme/tiny-data", "--type", "dataset", "--endpoint", hub_url, "--cache-dir", a)
    finally:
        stop(hub)  # replication must not need the hub
    serve, url = start("hubmirror", "serve", "--cache-dir", a, "--port", "0")
    yield a, url
    stop(serve)


def test_the_official_client_reads_a_replicated_store_offline(peer, tmp_path):
    a, url = peer
    b = str(tmp_path / "b")
    report = json.loads(hubmirror("replicate", "--from", url, "--cache-dir", b, "--json"))
    assert report["exitCode"] == 0 and not report["upToDate"], report
    model = next(r for r in report["repos"] if r["id"] == "acme/tiny-model")
    assert sorted((x["ref"], x["kind"], x["action"]) for x in model["refs"]) == [
        ("feature/x", "branch", "add"), ("main", "branch", "add"), ("refs/pr/1", "pr", "add"), ("v1.0", "tag", "add")]
    assert list(model["bytesBySource"]) == ["peer " + url], model

    code = ("import json; from huggingface_hub import snapshot_download as s, scan_cache_dir\n"
            f"paths = {{r: s('acme/tiny-model', revision=r) for r in {REFS!r}}}\n"
            "paths['data'] = s('acme/tiny-data', repo_type='dataset')\n"
            "i = scan_cache_dir()\n"
            "print(json.dumps({'paths': paths, 'warnings': [str(w) for w in i.warnings],"
            " 'repos': sorted((r.repo_type, r.repo_id, sorted(x for rv in r.revisions for x in rv.refs)) for r in i.repos)}))")
    got = client(code, HF_HUB_OFFLINE="1", HF_HUB_CACHE=b)
    want = client(code, HF_HUB_OFFLINE="1", HF_HUB_CACHE=a)
    assert got["warnings"] == [] and got["repos"] == want["repos"], got
    assert ["model", "acme/tiny-model", sorted(REFS)] in got["repos"]
    for k in REFS + ["data"]:
        assert os.path.basename(got["paths"][k]) == os.path.basename(want["paths"][k]), k
        mine, theirs = sha256_tree(got["paths"][k]), sha256_tree(want["paths"][k])
        assert mine == theirs and mine, k

    # Again: nothing to do, and the text report says so.
    out = hubmirror("replicate", "--from", url, "--cache-dir", b)
    assert "nothing changed: 2 repo(s)" in out and out.count(": up to date (") == 2, out


def test_exit_codes_of_a_selection_that_matches_nothing_and_an_unreachable_peer(peer, tmp_path):
    _, url = peer
    out = hubmirror("replicate", "--from", url, "--cache-dir", str(tmp_path / "c"), "--repo", "nobody/*", expect=10)
    assert out == ""
    r = subprocess.run([os.path.join(BIN, "hubmirror"), "replicate", "--from", url, "--cache-dir", str(tmp_path / "c"), "--repo", "nobody/*"],
                       capture_output=True, text=True)
    assert "nobody/*" in r.stderr, r.stderr
    hubmirror("replicate", "--from", "http://127.0.0.1:1", "--cache-dir", str(tmp_path / "c"), expect=21)
    hubmirror("replicate", "--from", url, "--type", "tensor", "--cache-dir", str(tmp_path / "c"), expect=64)
    out = hubmirror("replicate", "--from", url, "--cache-dir", str(tmp_path / "c"), "--repo", "acme/tiny-d*", "--repo", "zz*")
    assert "datasets/acme/tiny-data: refs 1 added" in out and "--repo 'zz*' matches no repo" in out, out
    assert not os.path.exists(str(tmp_path / "c" / "models--acme--tiny-model"))
