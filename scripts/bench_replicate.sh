#!/usr/bin/env bash
# `hubmirror replicate` vs the same ref with `sync --authority` vs `cp -a` of the cache folder (a copy that
# checks nothing), on the same local data in one run; then a no-op replicate. CPU seconds (user, sys) and wall
# seconds from /usr/bin/time, two interleaved rounds; every copy is checked to hold every blob byte.
# Run from the repository root after `swift build` (BIN=.build/debug by default; a release build for real figures).
set -euo pipefail
BIN=${BIN:-.build/debug}
MIB=${MIB:-128}
work=$(mktemp -d /tmp/bench-repl.XXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }
mkdir -p "$work/src"
for i in 1 2 3 4; do head -c $((MIB<<20)) /dev/urandom > "$work/src/w$i.bin"; done
echo '{"a":1}' > "$work/src/config.json"
"$BIN/hubmirror-fakehub" --serve-dir "$work/src" --repo acme/big --port 0 >"$work/hub.out" 2>/dev/null &
HUB=$(wait_line "$work/hub.out")
"$BIN/hubmirror" sync acme/big --endpoint "$HUB" --cache-dir "$work/a" --no-fsync >/dev/null 2>&1
"$BIN/hubmirror" serve --cache-dir "$work/a" --port 0 >"$work/a.out" 2>/dev/null &
A=$(wait_line "$work/a.out")
t() { /usr/bin/time -f "%U %S %e" "$@" 2>&1 >/dev/null | tail -1; }
for round in 1 2; do
  rm -rf "$work/r" "$work/s" "$work/rs"
  r=$(t "$BIN/hubmirror" replicate --from "$A" --cache-dir "$work/r" --no-fsync)
  s=$(t "$BIN/hubmirror" sync acme/big --authority "$A" --endpoint http://127.0.0.1:1 --cache-dir "$work/s" --no-fsync)
  rs=$(t cp -a "$work/a" "$work/rs")
  n=$(t "$BIN/hubmirror" replicate --from "$A" --cache-dir "$work/r" --no-fsync)
  echo "round $round (user sys wall s): replicate $r | sync --authority $s | cp -a $rs | no-op replicate $n"
  echo "round $round CPU ratio replicate / sync --authority: $(echo "$r $s" | awk '{printf "%.2f", ($1+$2)/($4+$5)}')"
done
blobs() { (cd "$1" && find . -path '*/blobs/*' -type f -printf '%f %s\n' | sort); }
for d in r s rs; do
  if [ "$(blobs "$work/$d")" = "$(blobs "$work/a")" ]; then echo "$d: every blob of A, $(blobs "$work/$d" | awk '{s+=$2} END {print s}') bytes"
  else echo "$d: MISSING BLOBS"; exit 1; fi
done
