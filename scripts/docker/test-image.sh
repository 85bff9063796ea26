#!/usr/bin/env bash
# Builds a small image for the tests from this machine's own binaries (nothing can be pulled here):
# `scripts/docker/test-image.sh TAG [--without-bash]`. It holds bash and its libraries, busybox for the
# usual commands, and an /etc/os-release naming it (ID=skydeck-test), which no host has: a task that
# prints it proves it ran inside the image. About 6 MB; made with `docker import`, so no base image is
# needed. --without-bash leaves bash out (busybox's sh only), for the refusal of such images.
set -euo pipefail
tag=${1:?usage: test-image.sh TAG [--without-bash]}
with_bash=1
[ "${2:-}" = --without-bash ] && with_bash=
if ! command -v busybox >/dev/null; then "$(dirname "$0")/../apt-install.sh" busybox-static; fi
root=$(mktemp -d /tmp/skydeck-test-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,tmp,etc,root,proc,sys,dev}
chmod 1777 "$root/tmp"
if [ -n "$with_bash" ]; then
  bash_bin=$(command -v bash)
  cp "$bash_bin" "$root/bin/bash"
  for lib in $(ldd "$bash_bin" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
fi
cp "$(command -v busybox)" "$root/bin/busybox"
# Debian's busybox lists sh and ash, not bash: --without-bash really has none.
for c in $("$root/bin/busybox" --list); do [ -e "$root/bin/$c" ] || ln -s busybox "$root/bin/$c"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'PRETTY_NAME="SkyDeck test image"\nNAME="SkyDeck test image"\nID=skydeck-test\n' >"$root/etc/os-release"
tar -C "$root" -cf - . | docker import -c 'ENV PATH=/usr/bin:/bin' -c 'CMD ["/bin/sh"]' - "$tag" >/dev/null
echo "[test-image] $tag built from this machine's ${with_bash:+bash and }busybox ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}'))"
