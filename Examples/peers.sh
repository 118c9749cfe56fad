#!/usr/bin/env bash
# Peer mode on one machine, offline: the bundled example hub plays huggingface.co; mirror A syncs a
# model from it and serves; mirror B syncs the same model with `--peer A` and takes every byte from A,
# checked against the hub's digests; the hub serves B no file content at all. Then a byte of one of A's
# blobs rots: mirror C, syncing with `--peer A`, catches it, names A, and takes that file from the hub.
# Run from the repository root after `swift build`.
set -euo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
HUB=$(wait_line "$work/hub.out")
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$HUB" --cache-dir "$work/a" >/dev/null
"$BIN/hubmirror" serve --cache-dir "$work/a" --port 0 >"$work/serve.out" 2>/dev/null &
A=$(wait_line "$work/serve.out")

echo "mirror B, with --peer A:"
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$HUB" --cache-dir "$work/b" --peer "$A" 2>/dev/null | grep -E '^(acme|bytes by source|struck)'

blob=$(ls -S "$work"/a/models--acme--tiny-model/blobs/* | head -1)
printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
echo "mirror C, with --peer A after a byte of A's largest blob rotted:"
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$HUB" --cache-dir "$work/c" --peer "$A" 2>/dev/null | grep -E '^(acme|bytes by source|struck)'
for m in b c; do
  echo "mirror $m: $("$BIN/hubmirror" verify --cache-dir "$work/$m" | tail -1)"
done
