#!/usr/bin/env bash
# Installs the Debian packages wiresim builds with. Idempotent: when everything is present it prints nothing
# and exits 0. Needs root (or sudo) only when something is missing.
#
#   tools/install-deps.sh            install what is missing
#   tools/install-deps.sh --check    list what is missing, exit 1 if anything is
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libboost-graph-dev libboost-program-options-dev
  libeigen3-dev libtomlplusplus-dev catch2 nlohmann-json3-dev
  libbenchmark-dev
  libopenmpi-dev openmpi-bin
  chromium  # headless, for the HTML report's browser test (tools/report_browser_test.py)
  clang libclang-rt-14-dev  # `make fuzz`: clang and its libFuzzer runtime (Debian 12 ships clang 14)
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  printf 'missing: %s\n' "${missing[*]}"
  exit 1
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: these packages are missing and this user cannot install them: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists; a stale one may point at versions that are gone. Try without
# updating first (fast when the lists are current), then update and try again.
if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/wiresim-apt.log 2>&1; then
  "${sudo_cmd[@]}" apt-get update -q >>/tmp/wiresim-apt.log 2>&1
  if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/wiresim-apt.log 2>&1; then
    echo "install-deps: apt-get failed; its log is /tmp/wiresim-apt.log" >&2
    tail -n 20 /tmp/wiresim-apt.log >&2
    exit 2
  fi
fi
