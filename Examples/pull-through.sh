#!/usr/bin/env bash
# A pull-through mirror on one machine, offline: the bundled example hub plays huggingface.co, and an
# empty `hubmirror serve --upstream` in front of it fetches, verifies and keeps only what clients ask
# for. The official client downloads one file through it; the mirror's store then holds that file
# (plus the commit's full listing), and a second client gets it without any upstream request.
# Run from the repository root after `swift build` (and scripts/setup.sh for the venv).
set -euo pipefail
BIN=${BIN:-.build/debug}
PYTHON=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
UPSTREAM=$(wait_line "$work/hub.out")
mkdir -p "$work/store"
"$BIN/hubmirror" serve --cache-dir "$work/store" --port 0 --upstream "$UPSTREAM" >"$work/serve.out" 2>"$work/serve.log" &
MIRROR=$(wait_line "$work/serve.out")

for client in one two; do
  HF_ENDPOINT="$MIRROR" HF_HUB_CACHE="$work/client-$client" "$PYTHON" -c \
    "from huggingface_hub import hf_hub_download; import hashlib; p = hf_hub_download('acme/tiny-model', 'model.safetensors'); print('client $client: sha256', hashlib.sha256(open(p, 'rb').read()).hexdigest())"
done
echo "the mirror holds:"; (cd "$work/store" && find . -path '*/snapshots/*' -type l | sort)
echo "upstream fetches of the file: $(grep -c 'pull-through fetch verified' "$work/serve.log")"
