#!/usr/bin/env bash
# Syncs every repo listed in a file into one store. Safe to run from cron: each repo has its own lock
# (a repo still being synced by the previous run is skipped with exit 50), output goes to a log, and the
# script exits with the worst exit code it saw (0 when everything is current).
#   usage: sync-repos.sh [REPOS_FILE] [CACHE_DIR]
set -uo pipefail
list=${1:-/etc/hubmirror/repos.txt}
cache=${2:-${HF_HUB_CACHE:-/srv/hf/hub}}
worst=0
while read -r line; do
  line=${line%%#*}
  [ -z "${line// }" ] && continue
  # shellcheck disable=SC2086
  hubmirror sync $line --cache-dir "$cache" --json > >(grep '"event":"summary"\|"event":"error"' >&2)
  rc=$?
  echo "$(date -Is) $line -> exit $rc" >&2
  [ $rc -gt $worst ] && worst=$rc
done < "$list"
exit $worst
