"""The runnable examples in Examples/ run and show what their README says."""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BIN = os.environ.get("HUBMIRROR_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


def run_example(name):
    env = dict(os.environ, BIN=os.path.abspath(BIN), PYTHON=sys.executable, HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    env.pop("HF_TOKEN", None)
    r = subprocess.run(["bash", os.path.join("Examples", name)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_pull_through_example_fetches_once_for_two_clients():
    out = run_example("pull-through.sh")
    shas = re.findall(r"client (?:one|two): sha256 ([0-9a-f]{64})", out)
    assert len(shas) == 2 and shas[0] == shas[1], out
    assert "upstream fetches of the file: 1" in out, out
    assert out.count("/snapshots/") == 1 and "model.safetensors" in out, out


def test_two_mirrors_example_reads_mirror_b_offline():
    out = run_example("two-mirrors.sh")
    assert "mirror B has" in out and "model.safetensors" in out, out


def test_mirror_run_example_reports_partial_then_success():
    out = run_example("mirror-run.sh")
    assert "first run: exit 51" in out, out
    assert 'report: "status":"ok" "status":"ok" "status":"ok" "status":"failed"' in out, out
    assert "second run: exit 0" in out and out.count("up to date (1 API request(s))") == 3, out


def test_peers_example_fills_b_from_a_and_catches_bit_rot():
    out = run_example("peers.sh")
    b, c = out.split("mirror C")[0], out.split("mirror C")[1]
    assert "bytes by source: peer " in b and "upstream" not in b.split("bytes by source:")[1].splitlines()[0], out
    assert "struck peer " in c and "model.safetensors" in c and "did not match" in c, out
    assert "mirror b:" in out and "mirror c:" in out and out.count("0 problem(s)") == 2, out


def test_replicate_example_copies_every_ref_then_moves_nothing_and_chains():
    out = run_example("replicate.sh")
    first, rest = out.split("B replicates A again:")
    assert "models/acme/tiny-model: refs 4 added" in first and "datasets/acme/tiny-data: refs 1 added" in first, out
    assert "bytes by source: peer " in first, out
    assert "nothing changed: 2 repo(s)" in rest.split("C replicates B")[0], out
    assert "C: acme/tiny-model feature/x:add main:add refs/pr/1:add v1.0:add - bytes from peer http://127.0.0.1:" in out, out
    assert "C refs: feature/x main refs/pr/1 v1.0" in out and "0 problem(s)" in out.split("mirror c:")[1], out


def test_bundle_example_moves_a_signed_incremental_bundle():
    out = run_example("bundle.sh")
    assert "hubmirror-bundle/manifest.json" in out.split("tar lists a volume:")[1].splitlines()[1], out
    assert ".part-0002" in out and "full.002: volume 2 of" in out and "signature verified" in out, out
    assert "a bundle signed by another key: exit 62" in out, out
    assert "left out as the far side holds them" in out, out
    assert out.count("imported bundle") == 2 and "0 problem(s)" in out.split("mirror b:")[1], out
    assert "main=" in out and "v1.0=" in out, out


def test_fleet_example_pulls_each_byte_from_the_hub_about_once():
    out = run_example("fleet.sh")
    ratio = float(out.split("the hub sent ")[1].split("x")[0])
    assert ratio <= 1.1, out
    assert out.count("from its peers") == 3 and " 0 MiB from its peers" not in out, out
    assert out.count("0 problem(s)") == 3, out
