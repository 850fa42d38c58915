#!/bin/sh
# Regenerates lib/remote/protocol/ from a pinned libvirt release's protocol definitions.
#
# The .x files are not committed: they come from Debian's `libvirt` source package (the
# release Debian bookworm ships, matching the daemon the tests start), fetched through a
# private deb-src list so the system's apt configuration is left alone.
#   LIBVIRT_SRC=/path/to/libvirt-9.0.0 scripts/regen-remote-protocol.sh   # use an unpacked tree
#   XENVIRT_PROTOCOL_OUT=DIR …   # write elsewhere (test/remote/regen.test.ts compares)
set -eu
SUITE=${LIBVIRT_SUITE:-bookworm}
PINNED_VERSION=${LIBVIRT_VERSION:-9.0.0}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LIBVIRT_SRC_CACHE:-${TMPDIR:-/tmp}/xenvirt-libvirt-src}

if [ -z "${LIBVIRT_SRC:-}" ]; then
  mkdir -p "$CACHE/lists/partial" "$CACHE/archives/partial"
  echo "deb-src $MIRROR $SUITE main" > "$CACHE/sources.list"
  APT="-o Dir::Etc::SourceList=$CACHE/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$CACHE/lists -o Dir::Cache::Archives=$CACHE/archives"
  if ! ls -d "$CACHE"/libvirt-"$PINNED_VERSION"/ >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    apt-get $APT update >/dev/null
    # shellcheck disable=SC2086
    VERSION=$(apt-cache $APT showsrc libvirt | sed -n 's/^Version: //p' | grep "^$PINNED_VERSION-" | head -1)
    [ -n "$VERSION" ] || { echo "libvirt $PINNED_VERSION not in $SUITE's sources" >&2; exit 1; }
    # shellcheck disable=SC2086
    (cd "$CACHE" && apt-get $APT source --download-only "libvirt=$VERSION")
    (cd "$CACHE" && dpkg-source --no-check -x libvirt_"$PINNED_VERSION"*.dsc "libvirt-$PINNED_VERSION" >/dev/null)
  fi
  LIBVIRT_SRC="$CACHE/libvirt-$PINNED_VERSION"
fi

# --fetch-only: just fill the cache (CI setup runs before npm install, so before tsx exists).
if [ "${1:-}" = "--fetch-only" ]; then echo "libvirt $PINNED_VERSION source in $LIBVIRT_SRC"; exit 0; fi

OUT=${XENVIRT_PROTOCOL_OUT:-$HERE/lib/remote/protocol}
mkdir -p "$OUT"
"$HERE/node_modules/.bin/tsx" "$HERE/scripts/xdrgen/main.ts" "$OUT" "libvirt $PINNED_VERSION" "$LIBVIRT_SRC/include/libvirt" \
  virnet="$LIBVIRT_SRC/src/rpc/virnetprotocol.x" \
  keepalive="$LIBVIRT_SRC/src/rpc/virkeepaliveprotocol.x" \
  remote="$LIBVIRT_SRC/src/remote/remote_protocol.x" \
  qemu="$LIBVIRT_SRC/src/remote/qemu_protocol.x"
echo "regenerated $OUT from libvirt $PINNED_VERSION"
