#!/usr/bin/env bash
# Installs the Debian 12 packages srm builds and tests with. Uses sudo only when not root, and
# skips apt entirely when everything is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  liblua5.4-dev lua-cjson lua-cjson-dev
  libcurl4-openssl-dev libpcre2-dev libutf8proc-dev libssl-dev libsqlite3-dev
  check libsubunit-dev clang-format libmicrohttpd-dev libyaml-dev
  python3-langdetect
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
