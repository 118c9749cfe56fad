#!/usr/bin/env bash
# A fleet started together, offline: three empty mirrors, each serving and each the others' peer,
# sync the same 96 MiB model from the example hub at the same moment (`--advertise` names each one).
# Every 16 MiB chunk is fetched from the hub by one of them only (rendezvous hashing, no scheduler);
# the others take it from that mirror, checked against the hub's SHA-256. The hub sends each byte
# about once in all, not three times. Run from the repository root after `swift build`.
set -euo pipefail
BIN=${BIN:-.build/debug}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

wait_line() { until grep -q '^listening on ' "$1" 2>/dev/null; do sleep 0.1; done; sed -n 's/^listening on //p' "$1" | head -1; }

mkdir -p "$work/model"
head -c $((48 << 20)) /dev/urandom >"$work/model/part-1.bin"
head -c $((48 << 20)) /dev/urandom >"$work/model/part-2.bin"
echo '{"model_type": "fleet"}' >"$work/model/config.json"
# 24 MB/s per request, so that the three syncs really overlap.
"$BIN/hubmirror-fakehub" --serve-dir "$work/model" --repo acme/fleet --port 0 \
  --trickle part-1.bin:24000000 --trickle part-2.bin:24000000 >"$work/hub.out" 2>/dev/null &
HUB=$(wait_line "$work/hub.out")

for m in a b c; do
  mkdir -p "$work/$m"
  "$BIN/hubmirror" serve --cache-dir "$work/$m" --port 0 >"$work/$m.out" 2>/dev/null &
done
A=$(wait_line "$work/a.out"); B=$(wait_line "$work/b.out"); C=$(wait_line "$work/c.out")

"$BIN/hubmirror" sync acme/fleet --endpoint "$HUB" --cache-dir "$work/a" --peer "$B" --peer "$C" --advertise "$A" --json >"$work/a.json" 2>/dev/null &
"$BIN/hubmirror" sync acme/fleet --endpoint "$HUB" --cache-dir "$work/b" --peer "$A" --peer "$C" --advertise "$B" --json >"$work/b.json" 2>/dev/null &
"$BIN/hubmirror" sync acme/fleet --endpoint "$HUB" --cache-dir "$work/c" --peer "$A" --peer "$B" --advertise "$C" --json >"$work/c.json" 2>/dev/null &
wait %5 %6 %7

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
size = sum(os.path.getsize(os.path.join(work, "model", f)) for f in os.listdir(os.path.join(work, "model")))
upstream = 0
for m in "abc":
    summary = [json.loads(l) for l in open(os.path.join(work, m + ".json")) if l.strip()][-1]
    by = summary.get("bytesBySource") or {}
    up = sum(v for k, v in by.items() if k.startswith("upstream"))
    peers = sum(v for k, v in by.items() if k.startswith("peer"))
    upstream += up
    print(f"mirror {m}: {up >> 20} MiB from the hub, {peers >> 20} MiB from its peers")
print(f"the hub sent {upstream / size:.2f}x the model's bytes for three mirrors")
PY
for m in a b c; do
  echo "mirror $m: $("$BIN/hubmirror" verify --cache-dir "$work/$m" | tail -1)"
done
