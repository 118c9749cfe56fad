#!/usr/bin/env bash
# Installs what hubmirror needs to build and test on a fresh Debian machine (idempotent):
# libcurl and OpenSSL headers, curl, bsdtar (bundle interop tests), and a Python venv (.venv) with the official huggingface_hub
# client and olah for the interoperability tests. Pass --bench for the benchmark peers too.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libcurl4-openssl-dev libssl-dev curl python3-venv pkg-config libarchive-tools)
if [ "${1:-}" = "--bench" ]; then pkgs+=(nginx-light aria2 time wrk); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py_pkgs=(huggingface_hub==2.4.0 olah==0.5.4 pytest)
if [ "${1:-}" = "--bench" ]; then py_pkgs+=(hf_transfer==0.1.9); fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import huggingface_hub, pytest, olah" 2>/dev/null || [ "${1:-}" = "--bench" ]; then
  echo "installing Python packages into .venv: ${py_pkgs[*]}"
  .venv/bin/pip install -q --disable-pip-version-check "${py_pkgs[@]}"
fi
