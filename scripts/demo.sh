#!/usr/bin/env bash
# The main job end to end, offline: builds hubmirror, starts the bundled example hub
# (hubmirror-fakehub --demo, on 127.0.0.1), syncs a model at a tag, shows the diff to main, syncs main,
# shows that a second run moves nothing, lets the official huggingface_hub client read the mirror
# offline, serves it to `hf download`, lets a second mirror fill itself from the first (peer mode), and
# has an empty mirror fill itself through `serve --upstream`.
# Everything lands in ./demo-out (removed at the start of each run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build
BIN=.build/debug
OUT="$PWD/demo-out"
rm -rf "$OUT"; mkdir -p "$OUT"
CACHE="$OUT/hub"

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
# start NAME CMD...: runs CMD in the background (output in $OUT/NAME.out and .log) until it prints
# its "listening on URL" line; sets URL.
start() {
  local name=$1; shift
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  until grep -q '^listening on ' "$OUT/$name.out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$OUT/$name.log"; exit 1; }
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on //p' "$OUT/$name.out" | head -1)
}

start fakehub "$BIN/hubmirror-fakehub" --demo --port 0
ENDPOINT=$URL
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$BIN/hubmirror" sync acme/tiny-model@v1.0 --endpoint "$ENDPOINT" --cache-dir "$CACHE"
run "$BIN/hubmirror" diff acme/tiny-model --from v1.0 --endpoint "$ENDPOINT" --cache-dir "$CACHE"
run "$BIN/hubmirror" sync acme/tiny-model --endpoint "$ENDPOINT" --cache-dir "$CACHE"
run "$BIN/hubmirror" sync acme/tiny-model --endpoint "$ENDPOINT" --cache-dir "$CACHE"
run "$BIN/hubmirror" sync acme/tiny-data --type dataset --endpoint "$ENDPOINT" --cache-dir "$CACHE"
run "$BIN/hubmirror" sync acme/tiny-model --revision refs/pr/1 --include '*.txt' --local-dir "$OUT/pr1" --endpoint "$ENDPOINT"
say "the cache (huggingface_hub layout)"
(cd "$CACHE" && find . -path '*/.hubmirror' -prune -o -print | sort | sed 's/^/  /')

say "the official client, offline, on the mirror"
HF_HUB_OFFLINE=1 HF_HUB_CACHE="$CACHE" .venv/bin/python - <<'PY'
import hashlib, os
from huggingface_hub import snapshot_download, scan_cache_dir
path = snapshot_download("acme/tiny-model")
for name in sorted(os.listdir(path)):
    p = os.path.join(path, name)
    if os.path.isfile(p):
        print(f"  {name:28} sha256={hashlib.sha256(open(p, 'rb').read()).hexdigest()[:16]}…")
info = scan_cache_dir(os.environ["HF_HUB_CACHE"])
print(f"  scan_cache_dir: {len(info.repos)} repos, {info.size_on_disk} bytes, warnings: {info.warnings or 'none'}")
PY

say "hubmirror serve: the mirror answers the Hub API; the official 'hf download' reads from it"
start serve "$BIN/hubmirror" serve --cache-dir "$CACHE" --port 0
MIRROR=$URL
HF_ENDPOINT="$MIRROR" HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_CACHE="$OUT/client-cache" HF_HUB_DISABLE_PROGRESS_BARS=1 .venv/bin/hf download acme/tiny-model --local-dir "$OUT/from-mirror" >/dev/null 2>&1
(cd "$OUT/from-mirror" && find . -path ./.cache -prune -o -type f -print | sort | sed 's/^/  /')

say "peer mode: a second mirror takes every byte from the first (--peer), checking each against the hub's digests"
run "$BIN/hubmirror" sync acme/tiny-model --endpoint "$ENDPOINT" --cache-dir "$OUT/peer-cache" --peer "$MIRROR"
curl -s "$MIRROR/api/mirror/v1/catalog" | .venv/bin/python -c 'import json,sys; c=json.load(sys.stdin); print("  the first mirror'"'"'s peer catalog:", ", ".join(r["type"]+"s/"+r["id"]+" "+str(sorted(r["branches"])) for r in c["repos"]))'

say "hubmirror replicate: a third mirror copies every repo and ref the first serves (asking the hub nothing); again, it moves nothing"
run "$BIN/hubmirror" replicate --from "$MIRROR" --cache-dir "$OUT/replica-cache"
run "$BIN/hubmirror" replicate --from "$MIRROR" --cache-dir "$OUT/replica-cache"

say "a fleet started together: three empty mirrors, each the others' peer (--advertise), split the hub's bytes (Examples/fleet.sh)"
BIN="$BIN" bash Examples/fleet.sh | sed 's/^/  /'

say "hubmirror serve --upstream: an empty mirror fills itself on demand, file by file, verified"
mkdir -p "$OUT/pull-store"
start pull "$BIN/hubmirror" serve --cache-dir "$OUT/pull-store" --port 0 --upstream "$ENDPOINT"
PULL=$URL
HF_ENDPOINT="$PULL" HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_CACHE="$OUT/client-cache2" HF_HUB_DISABLE_PROGRESS_BARS=1 \
  .venv/bin/hf download acme/tiny-model model.safetensors config.json --local-dir "$OUT/pulled" >/dev/null 2>&1
echo "  the client got:"; (cd "$OUT/pulled" && find . -path ./.cache -prune -o -type f -print | sort | sed 's/^/    /')
echo "  the mirror now holds (only what was asked for):"
(cd "$OUT/pull-store/models--acme--tiny-model/snapshots" && find . -mindepth 2 | sort | sed 's/^/    /')
grep 'pull-through fetch verified' "$OUT/pull.log" | sed -E 's/.*(file=[^ ]+).*/  serve log: pulled, verified and linked \1/' || true

say "air-gapped bundle: the mirror exported to one tar (GNU tar lists it), imported into an empty store with every blob verified"
run "$BIN/hubmirror" export --cache-dir "$CACHE" --out "$OUT/bundle.tar"
tar -tf "$OUT/bundle.tar" | sed -n '1,3s/^/  /p'
run "$BIN/hubmirror" import "$OUT/bundle.tar" --cache-dir "$OUT/far-cache"
run "$BIN/hubmirror" verify --cache-dir "$OUT/far-cache"

say "hubmirror mirror: the cron job over a config file (everything already here: one request per revision)"
cat >"$OUT/mirror.toml" <<TOML
cache_dir = "$CACHE"
endpoint = "$ENDPOINT"
state_dir = "$OUT/state"

[[repo]]
id = "acme/tiny-model"
revisions = ["main", "v1.0"]

[[repo]]
id = "acme/tiny-data"
type = "dataset"
TOML
run "$BIN/hubmirror" mirror --config "$OUT/mirror.toml"

run "$BIN/hubmirror" verify --cache-dir "$CACHE"
