"""A bundle exported by hubmirror and imported into an empty store is read by the official
huggingface_hub client offline exactly like the source mirror, and scan_cache_dir() finds nothing to
warn about; GNU tar, bsdtar and Python's tarfile read the bundle, and sha256sum of every extracted blob
matches the manifest."""
import hashlib
import json
import os
import subprocess
import tarfile

import pytest

BIN = os.environ.get("HUBMIRROR_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))


@pytest.fixture(scope="module")
def demo_hub():
    p = subprocess.Popen([os.path.join(BIN, "hubmirror-fakehub"), "--demo", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    assert line.startswith("listening on "), line
    yield line[len("listening on "):]
    p.terminate()
    p.wait(timeout=10)


def hubmirror(*args):
    r = subprocess.run([os.path.join(BIN, "hubmirror"), *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def client(code, cache):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=cache, HF_HUB_DISABLE_TELEMETRY="1")
    env.pop("HF_TOKEN", None)
    r = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


READ = """
import hashlib, json, os
from huggingface_hub import snapshot_download, scan_cache_dir
out = {}
for repo, rev, kind in [("acme/tiny-model", "main", "model"), ("acme/tiny-model", "v1.0", "model"), ("acme/tiny-data", "main", "dataset")]:
    path = snapshot_download(repo, revision=rev, repo_type=kind)
    files = {}
    for d, _, names in os.walk(path):
        for n in names:
            p = os.path.join(d, n)
            files[os.path.relpath(p, path)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    out[f"{kind}:{repo}@{rev}"] = [os.path.basename(path), files]
info = scan_cache_dir(os.environ["HF_HUB_CACHE"])
out["warnings"] = [str(w) for w in info.warnings]
out["repos"] = sorted(r.repo_id for r in info.repos)
print(json.dumps(out))
"""


def test_an_imported_bundle_reads_offline_like_the_source_mirror(demo_hub, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    for args in [["acme/tiny-model@v1.0"], ["acme/tiny-model"], ["acme/tiny-data", "--type", "dataset"]]:
        hubmirror("sync", *args, "--endpoint", demo_hub, "--cache-dir", a)
    bundle = str(tmp_path / "b.tar")
    hubmirror("export", "--cache-dir", a, "--out", bundle)
    hubmirror("import", bundle, "--cache-dir", b)
    source, imported = client(READ, a), client(READ, b)
    assert imported == source
    assert imported["warnings"] == [] and imported["repos"] == ["acme/tiny-data", "acme/tiny-model"]
    assert len(imported["model:acme/tiny-model@main"][1]) >= 5


def test_tar_tools_read_the_bundle_and_blobs_match_the_manifest(demo_hub, tmp_path):
    a = str(tmp_path / "a")
    hubmirror("sync", "acme/tiny-model", "--endpoint", demo_hub, "--cache-dir", a)
    bundle = str(tmp_path / "b.tar")
    hubmirror("export", "--cache-dir", a, "--out", bundle)
    with tarfile.open(bundle) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("hubmirror-bundle/manifest.json"))
        assert names[0] == "hubmirror-bundle/manifest.json" and names[-1] == "hubmirror-bundle/volume-001.sha256"
        for blob in manifest["blobs"]:
            data = t.extractfile("blobs/" + blob["sha256"]).read()
            assert len(data) == blob["size"] and hashlib.sha256(data).hexdigest() == blob["sha256"]
    for tool in ["tar", "bsdtar"]:
        out = str(tmp_path / tool)
        os.makedirs(out)
        subprocess.run([tool, "-xf", bundle, "-C", out], check=True)
        r = subprocess.run(["sha256sum", "-c", "--strict", "hubmirror-bundle/volume-001.sha256"], cwd=out, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count(": OK") == len(manifest["blobs"]) + 1


def test_an_imported_store_serves_the_hub_api_to_the_official_client(demo_hub, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    hubmirror("sync", "acme/tiny-model", "--endpoint", demo_hub, "--cache-dir", a)
    bundle = str(tmp_path / "b.tar")
    hubmirror("export", "--cache-dir", a, "--out", bundle)
    hubmirror("import", bundle, "--cache-dir", b)
    proc = subprocess.Popen([os.path.join(BIN, "hubmirror"), "serve", "--cache-dir", b, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        env = dict(os.environ, HF_ENDPOINT=line[len("listening on "):], HF_HUB_CACHE=str(tmp_path / "client"),
                   HF_HUB_DISABLE_TELEMETRY="1")
        env.pop("HF_TOKEN", None)
        r = subprocess.run([os.sys.executable, "-c",
                            "import hashlib, json, os\n"
                            "from huggingface_hub import snapshot_download\n"
                            "p = snapshot_download('acme/tiny-model')\n"
                            "print(json.dumps({os.path.relpath(os.path.join(d, n), p): hashlib.sha256(open(os.path.join(d, n), 'rb').read()).hexdigest()"
                            " for d, _, ns in os.walk(p) for n in ns}))"],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        served = json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    snap = os.path.join(a, "models--acme--tiny-model", "snapshots")
    src = os.path.join(snap, open(os.path.join(a, "models--acme--tiny-model", "refs", "main")).read())
    want = {os.path.relpath(os.path.join(d, n), src): hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest()
            for d, _, ns in os.walk(src) for n in ns}
    assert served == want and len(served) >= 5
