#!/usr/bin/env bash
# `hubmirror mirror` on one machine, offline: the bundled example hub plays huggingface.co; a config
# lists two repos and one that does not exist. The first run syncs the two and exits 51 (some failed);
# the report says which and why. Fixing the config makes the next run exit 0, one request per revision.
# Run from the repository root after `swift build`.
set -uo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
UPSTREAM=$(wait_line "$work/hub.out")

write_config() {
  cat >"$work/mirror.toml" <<TOML
cache_dir = "$work/hub"
endpoint = "$UPSTREAM"

[retention]
keep_unreferenced = 1

[[repo]]
id = "acme/tiny-model"
revisions = ["main", "v1.0"]
include = ["*.json", "*.safetensors"]

[[repo]]
id = "acme/tiny-data"
type = "dataset"
$1
TOML
}

write_config $'\n[[repo]]\nid = "acme/does-not-exist"'
"$BIN/hubmirror" mirror --config "$work/mirror.toml"
echo "first run: exit $?"
echo "report: $(grep -o '"status":"[a-z]*"' "$work/hubmirror/last-run.json" | tr '\n' ' ')"

write_config ""
"$BIN/hubmirror" mirror --config "$work/mirror.toml"
echo "second run: exit $?"
