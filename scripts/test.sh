#!/usr/bin/env bash
# Runs every test: Swift unit and integration tests (fake hub with fault injection on 127.0.0.1),
# then the official huggingface_hub client and olah against hubmirror (Python, in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build
export HUBMIRROR_BIN_DIR="$PWD/.build/debug"
swift test
.venv/bin/python -m pytest -q Tests/python
