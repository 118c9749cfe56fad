#!/usr/bin/env bash
# A mirror of a mirror on one machine, offline: the bundled example hub plays huggingface.co,
# mirror A syncs from it and serves its store, mirror B syncs from A (as its --endpoint), and the
# official client reads B offline. Run from the repository root after `swift build`.
set -euo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
UPSTREAM=$(wait_line "$work/hub.out")
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$UPSTREAM" --cache-dir "$work/a"

"$BIN/hubmirror" serve --cache-dir "$work/a" --port 0 >"$work/a.out" 2>/dev/null &
MIRROR_A=$(wait_line "$work/a.out")
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$MIRROR_A" --cache-dir "$work/b"

HF_HUB_OFFLINE=1 HF_HUB_CACHE="$work/b" ${PYTHON:-.venv/bin/python} -c \
  "from huggingface_hub import snapshot_download; import os; p = snapshot_download('acme/tiny-model'); print('mirror B has', sorted(os.listdir(p)))"
