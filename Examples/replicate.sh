#!/usr/bin/env bash
# Replication on one machine, offline: the bundled example hub plays huggingface.co; mirror A syncs
# every ref of a model (main, the tag v1.0, the PR refs/pr/1, feature/x) and a dataset, and serves.
# Mirror B replicates A: all refs, snapshots and repo info, asking the hub nothing; a second run
# moves nothing. Then B serves and C replicates B (a chain A -> B -> C: C never talks to A or the hub).
# Run from the repository root after `swift build`.
set -euo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
HUB=$(wait_line "$work/hub.out")
for rev in main v1.0 refs/pr/1 feature/x; do
  "$BIN/hubmirror" sync acme/tiny-model --revision "$rev" --endpoint "$HUB" --cache-dir "$work/a" >/dev/null
done
"$BIN/hubmirror" sync acme/tiny-data --type dataset --endpoint "$HUB" --cache-dir "$work/a" >/dev/null
"$BIN/hubmirror" serve --cache-dir "$work/a" --port 0 >"$work/a.out" 2>/dev/null &
A=$(wait_line "$work/a.out")

echo "B replicates A:"
"$BIN/hubmirror" replicate --from "$A" --cache-dir "$work/b" 2>/dev/null
echo "B replicates A again:"
"$BIN/hubmirror" replicate --from "$A" --cache-dir "$work/b" 2>/dev/null

"$BIN/hubmirror" serve --cache-dir "$work/b" --port 0 >"$work/b.out" 2>/dev/null &
B=$(wait_line "$work/b.out")
echo "C replicates B, only models:"
"$BIN/hubmirror" replicate --from "$B" --cache-dir "$work/c" --type model --json 2>/dev/null \
  | "${PYTHON:-python3}" -c 'import json,sys; r=json.load(sys.stdin); m=r["repos"][0]; print("C:", m["id"], " ".join(sorted(x["ref"] + ":" + x["action"] for x in m["refs"])), "- bytes from", " ".join(sorted(r["bytesBySource"])))'
echo "C refs: $(cd "$work/c/models--acme--tiny-model/refs" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')"
echo "mirror c: $("$BIN/hubmirror" verify --cache-dir "$work/c" 2>/dev/null | tail -1)"
