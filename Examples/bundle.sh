#!/usr/bin/env bash
# Air-gapped bundles on one machine, offline: mirror A (the connected side) syncs a model at v1.0 from
# the bundled example hub and exports it as a signed bundle in 1 MiB volumes (the 3 MiB weights are cut
# into parts); plain tar lists a volume and one volume is checked alone; mirror B (the far side) imports
# the volumes in reverse order, trusting only A's key, and refuses a bundle signed by another key. B's
# state goes back to A, which exports just what B lacks once main has moved on. Run from the repository
# root after `swift build`.
set -euo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }
"$BIN/hubmirror-fakehub" --demo --port 0 >"$work/hub.out" 2>/dev/null &
HUB=$(wait_line "$work/hub.out")

"$BIN/hubmirror" sync acme/tiny-model@v1.0 --endpoint "$HUB" --cache-dir "$work/a" >/dev/null 2>&1
"$BIN/hubmirror" keygen --out "$work/key" >/dev/null
echo "export in 1 MiB volumes, signed:"
"$BIN/hubmirror" export --cache-dir "$work/a" --out "$work/full" --volume-size 1M --sign-key "$work/key" | sed -n 1p
echo "tar lists a volume:"
tar -tf "$work/full.002" | sed 's/^/  /'
echo "one volume checked alone:"
"$BIN/hubmirror" bundle verify "$work/full.002" --trusted-key "$work/key.pub" | sed "s|$work/||"
echo "import into B, the volumes in reverse order:"
"$BIN/hubmirror" import $(ls -r "$work"/full.*) --cache-dir "$work/b" --trusted-key "$work/key.pub" 2>/dev/null
"$BIN/hubmirror" keygen --out "$work/other" >/dev/null
"$BIN/hubmirror" export --cache-dir "$work/a" --out "$work/forged.tar" --sign-key "$work/other" >/dev/null
echo "a bundle signed by another key: exit $("$BIN/hubmirror" import "$work/forged.tar" --cache-dir "$work/b" --trusted-key "$work/key.pub" 2>/dev/null; echo $?)"

"$BIN/hubmirror" state --cache-dir "$work/b" --out "$work/b.state" >/dev/null
"$BIN/hubmirror" sync acme/tiny-model --endpoint "$HUB" --cache-dir "$work/a" >/dev/null 2>&1
echo "incremental export against B's state, once main has moved on:"
"$BIN/hubmirror" export --cache-dir "$work/a" --since "$work/b.state" --out "$work/update.tar" --sign-key "$work/key" | sed -n 1p
"$BIN/hubmirror" import "$work/update.tar" --cache-dir "$work/b" --trusted-key "$work/key.pub" 2>/dev/null
echo "mirror b: $("$BIN/hubmirror" verify --cache-dir "$work/b" | tail -1)"
echo "refs of b: $(cd "$work/b/models--acme--tiny-model/refs" && for r in *; do printf '%s=%s ' "$r" "$(cut -c1-12 "$r")"; done)"
