#!/usr/bin/env bash
# test/remote/regen.test.ts checks lib/remote/protocol against a fresh generation from the
# pinned libvirt release: fetch Debian bookworm's libvirt 9.0.0 source once (dpkg-source
# unpacks it) into the script's cache, so the test itself only regenerates (with tsx, which
# exists only after npm install, later than this step).
set -euo pipefail
if ! command -v dpkg-source >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 dpkg-dev xz-utils
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
sh "$here/scripts/regen-remote-protocol.sh" --fetch-only
