#!/usr/bin/env bash
# Installs Debian packages for the test suites: `scripts/apt-install.sh PKG...`. A fresh machine may
# have no package lists, so they are refreshed first (once per boot); another apt run is waited for.
set -euo pipefail
[ $# -gt 0 ] || exit 0
export DEBIAN_FRONTEND=noninteractive
stamp=/tmp/.skydeck-apt-lists-fresh
if [ ! -f "$stamp" ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  touch "$stamp"
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
